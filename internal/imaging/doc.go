// Package imaging is packshot's local image engine: it turns one product photo into the
// images of a marketplace pack without any outside service.
//
// The steps are separate functions so a job handler can run exactly the part it needs and
// store what it made:
//
//	img, format, err := imaging.Decode(r, imaging.DefaultLimits)   // guards: bytes, pixels, truncation, EXIF orientation
//	cut, err := imaging.RemoveBackground(img)                       // plain backgrounds only; ErrNeedsAIBackgroundRemoval otherwise
//	out, err := imaging.Render(imaging.TypeMain, cut, product, profile)
//	data, err := imaging.Encode(out, profile)                       // main: verifies the encoded border is exactly 255
//	result := imaging.Check(out.Type, data, profile)                // compliance result stored with the image
//
// Everything is pure Go (the standard library and golang.org/x/image). Hot loops work on
// Pix slices directly; the background mask is estimated on a downscaled copy and refined at
// full resolution only along the product's edge.
//
// Errors a user can fix (not an image, truncated, too large, too small, busy background)
// are typed; test them with errors.Is against ErrNotImage, ErrTruncated, ErrTooLarge,
// ErrTooSmall, ErrUnsupported and ErrNeedsAIBackgroundRemoval.
package imaging
