package api

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"

	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/queue"
	"github.com/packshot/packshot/internal/trpc"
)

// WriteTypeScript writes the TypeScript `AppRouter` type of packshot's whole tRPC API
// (every procedure and subscription) for the given transformer ("json" or "superjson"),
// so a frontend gets typed inputs and outputs from createTRPCClient<AppRouter>. No
// procedure runs: registration only records the Go types.
//
// Beside it the module declares the server's vocabulary, so the web app never retypes
// it: the project, job and image-slot statuses, the image types and the marketplaces as
// string unions (narrowing the wire types' fields that carry them) with the list of
// their values in the server's order, each image type's title, description and the
// product detail it needs (imageTypeInfo), and the input limits (inputLimits).
func WriteTypeScript(w io.Writer, transformer string) error {
	r := newRouter(Deps{Transformer: transformer, Logger: slog.New(slog.DiscardHandler)})
	registerSubscriptions(r, nil)
	registerJobWatch(r, nil, nil)
	opts, err := vocabulary()
	if err != nil {
		return err
	}
	return trpc.WriteTypeScript(w, r, opts...)
}

// ImageTypeInfo describes an image type for people: the web app titles and explains
// each image card with it.
type ImageTypeInfo struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	About string `json:"about"`
	// Needs is the project detail ("features" or "dimensions") the image is drawn from:
	// without it the type cannot be made and a complete pack leaves it out. Empty when
	// the photo is enough.
	Needs string `json:"needs,omitempty"`
}

// imageTypeInfo holds an ImageTypeInfo for each of pack.Types; ImageTypes fails when a
// type has none. The Needs entries repeat the rule pack applies before it enqueues an
// image (infographic: features, dimensions: dimensions); TestImageTypeNeeds holds them
// to it.
var imageTypeInfo = map[string]ImageTypeInfo{
	pack.TypeMain:        {Title: "Main image", About: "The product alone on pure white."},
	pack.TypeLifestyle:   {Title: "Lifestyle", About: "The product in a real-looking scene."},
	pack.TypeInfographic: {Title: "Infographic", About: "Your title and features as callouts.", Needs: "features"},
	pack.TypeDimensions:  {Title: "Dimensions", About: "The product with its measurements.", Needs: "dimensions"},
	pack.TypeDetail:      {Title: "Detail close-up", About: "A crop that shows materials and finish."},
	pack.TypeCustom:      {Title: "Custom image", About: "Your own scene, made by the AI image service."},
}

// InputLimits are the longest inputs the server accepts, in characters, and the most
// features a project has; the web app's fields stop there.
type InputLimits struct {
	Name       int `json:"name"`
	Title      int `json:"title"`
	Features   int `json:"features"`
	Feature    int `json:"feature"`
	Dimensions int `json:"dimensions"`
	Prompt     int `json:"prompt"`
}

// ImageTypes describes every image type, in pack.Types order. It fails when a type has
// no description, or a description names a type pack.Types does not list.
func ImageTypes() ([]ImageTypeInfo, error) {
	infos := make([]ImageTypeInfo, 0, len(pack.Types))
	for _, t := range pack.Types {
		info, ok := imageTypeInfo[t]
		if !ok {
			return nil, fmt.Errorf("image type %q has no ImageTypeInfo", t)
		}
		info.Type = t
		infos = append(infos, info)
	}
	if len(infos) != len(imageTypeInfo) {
		return nil, fmt.Errorf("imageTypeInfo describes types pack.Types does not list")
	}
	return infos, nil
}

// vocabulary is what WriteTypeScript declares beside AppRouter.
func vocabulary() ([]trpc.TypeScriptOption, error) {
	projectStatuses := []string{pack.StatusDraft, pack.StatusReady, pack.StatusGenerating,
		pack.StatusCompleted, pack.StatusPartial, pack.StatusFailed}
	jobStatuses := []string{pack.JobPending, pack.JobProcessing, pack.JobCompleted, pack.JobFailed, pack.JobCancelled}
	slotStatuses := append([]string{pack.SlotNone}, jobStatuses...)
	severities := []string{string(imaging.SeverityError), string(imaging.SeverityWarning)}

	infos, err := ImageTypes()
	if err != nil {
		return nil, fmt.Errorf("write typescript: %w", err)
	}
	var needs []string
	for _, info := range infos {
		if info.Needs != "" && !slices.Contains(needs, info.Needs) {
			needs = append(needs, info.Needs)
		}
	}
	needsTS := make([]string, len(needs))
	for i, n := range needs {
		needsTS[i] = fmt.Sprintf("%q", n)
	}

	snapshot, summary := reflect.TypeFor[pack.Snapshot](), reflect.TypeFor[pack.Summary]()
	slot, image, job := reflect.TypeFor[pack.ImageSlot](), reflect.TypeFor[pack.GeneratedImage](), reflect.TypeFor[pack.Job]()
	return []trpc.TypeScriptOption{
		trpc.TSEnum("ProjectStatus", "projectStatuses", "A project's status: from its photo and the latest job of each image type.", projectStatuses),
		trpc.TSEnum("JobStatus", "jobStatuses", "A job's status, as job_queue stores it.", jobStatuses),
		trpc.TSEnum("SlotStatus", "slotStatuses", "An image slot's status: its latest job's, or \"none\" before the first job.", slotStatuses),
		trpc.TSEnum("ImageType", "imageTypes", "An image type; a job of kind \"image.<type>\" makes it.", pack.Types),
		trpc.TSEnum("Marketplace", "marketplaces", "A marketplace whose rules a project's images follow; the first is the default.", imaging.Marketplaces),
		trpc.TSEnum("Severity", "severities", "Whether a compliance violation gets an image rejected (error) or is advice (warning).", severities),
		trpc.TSType(reflect.TypeFor[queue.Status](), "JobStatus"),
		trpc.TSField(snapshot, "status", "ProjectStatus"),
		trpc.TSField(snapshot, "marketplace", "Marketplace"),
		trpc.TSField(summary, "status", "ProjectStatus"),
		trpc.TSField(summary, "marketplace", "Marketplace"),
		trpc.TSField(slot, "type", "ImageType"),
		trpc.TSField(slot, "status", "SlotStatus"),
		trpc.TSField(image, "type", "ImageType"),
		trpc.TSField(reflect.TypeFor[pack.Violation](), "severity", "Severity"),
		// A job that makes no image (none does today) has the type "".
		trpc.TSField(job, "type", `ImageType | ""`),
		trpc.TSField(job, "status", "JobStatus"),
		trpc.TSField(reflect.TypeFor[pack.GenerateInput](), "type", "ImageType"),
		trpc.TSField(reflect.TypeFor[pack.CreateInput](), "marketplace", "Marketplace"),
		trpc.TSField(reflect.TypeFor[pack.JobListInput](), "status", "JobStatus"),
		trpc.TSField(reflect.TypeFor[ImageTypeInfo](), "type", "ImageType"),
		trpc.TSField(reflect.TypeFor[ImageTypeInfo](), "needs", strings.Join(needsTS, " | ")),
		trpc.TSConst("imageTypeInfo", "Every image type in imageTypes' order, named and explained for people.", infos),
		trpc.TSConst("inputLimits", "The longest inputs the server accepts, in characters, and the most features a project has.", InputLimits{
			Name: pack.MaxNameLen, Title: pack.MaxTitleLen, Features: pack.MaxFeatures,
			Feature: pack.MaxFeatureLen, Dimensions: pack.MaxDimensionsLen, Prompt: pack.MaxPromptLen,
		}),
	}, nil
}
