package pack

import "github.com/packshot/packshot/internal/queue"

// imageArgs is the payload every image job carries: its type (redundant with the kind,
// kept for operators' SQL) and, for a custom image, the prompt. The project's data is
// read when the job runs, so an edit made before a retry is used by it.
type imageArgs struct {
	Type   string `json:"type"`
	Prompt string `json:"prompt,omitempty"`
}

// The args of the image job kinds, one Go type per kind ("image.<type>").
type (
	// MainArgs make the main image.
	MainArgs imageArgs
	// LifestyleArgs make the lifestyle image.
	LifestyleArgs imageArgs
	// InfographicArgs make the infographic.
	InfographicArgs imageArgs
	// DimensionsArgs make the dimensions image.
	DimensionsArgs imageArgs
	// DetailArgs make the detail image.
	DetailArgs imageArgs
	// CustomArgs make a custom image from Prompt.
	CustomArgs imageArgs
)

// Kind returns "image.main".
func (MainArgs) Kind() string { return Kind(TypeMain) }

// Kind returns "image.lifestyle".
func (LifestyleArgs) Kind() string { return Kind(TypeLifestyle) }

// Kind returns "image.infographic".
func (InfographicArgs) Kind() string { return Kind(TypeInfographic) }

// Kind returns "image.dimensions".
func (DimensionsArgs) Kind() string { return Kind(TypeDimensions) }

// Kind returns "image.detail".
func (DetailArgs) Kind() string { return Kind(TypeDetail) }

// Kind returns "image.custom".
func (CustomArgs) Kind() string { return Kind(TypeCustom) }

func (a MainArgs) image() imageArgs        { return imageArgs(a) }
func (a LifestyleArgs) image() imageArgs   { return imageArgs(a) }
func (a InfographicArgs) image() imageArgs { return imageArgs(a) }
func (a DimensionsArgs) image() imageArgs  { return imageArgs(a) }
func (a DetailArgs) image() imageArgs      { return imageArgs(a) }
func (a CustomArgs) image() imageArgs      { return imageArgs(a) }

// imageJobArgs are the args of any image kind.
type imageJobArgs interface {
	queue.JobArgs
	image() imageArgs
}

// argsFor returns the args of the job that makes image type t (a type ParseType accepted).
func argsFor(t, prompt string) queue.JobArgs {
	a := imageArgs{Type: t, Prompt: prompt}
	switch t {
	case TypeMain:
		return MainArgs(a)
	case TypeLifestyle:
		return LifestyleArgs(a)
	case TypeInfographic:
		return InfographicArgs(a)
	case TypeDimensions:
		return DimensionsArgs(a)
	case TypeDetail:
		return DetailArgs(a)
	case TypeCustom:
		return CustomArgs(a)
	}
	panic("pack: no job kind for image type " + t)
}
