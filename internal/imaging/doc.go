// Package imaging is packshot's local image engine: it turns one product photo into the
// images of a marketplace pack without any outside service.
//
// The steps are separate functions, so a job handler runs exactly the part it needs:
//
//	prof, err := imaging.ProfileFor("amazon")                          // ErrUnknownMarketplace lists the valid names
//	img, _, err := imaging.DecodeBytes(ctx, data, prof.SourceLimits()) // header checked, decode budget taken first
//	cut, err := imaging.RemoveBackground(img)                          // ErrNeedsAIBackgroundRemoval on a busy backdrop
//	out, err := imaging.Make(imaging.TypeMain, cut, product, prof)
//	// out.Data is the JPEG; out.Compliance (JSON) is stored with the image.
//
// Make is Render (one renderer per ImageType) then Finish (Encode, which verifies the main
// image's encoded border is exactly white, then Check). An image made by an AI provider
// goes through FromGenerated and Finish instead. CheckHeader lets an API refuse an upload
// from its header alone, and ParseDimensions reads "30 x 20 x 10 cm".
//
// Every decode in the process goes through one guard (ConfigureDecode): its memory is
// estimated from the header (progressive and CMYK JPEGs cost several times their pixels)
// and taken from a process-wide budget before decoding, and progressive and CMYK JPEGs
// have a lower pixel limit.
//
// Everything is pure Go (the standard library and golang.org/x/image; text in the
// embedded Go fonts). Hot loops work on Pix slices; the background mask is estimated on a
// copy at most 1024 px across and refined at full resolution only along the product's
// edge.
//
// Errors a user can fix are typed; test them with errors.Is: ErrNotImage, ErrTruncated,
// ErrCorrupt, ErrTooLarge, ErrTooSmall, ErrNeedsAIBackgroundRemoval, ErrNoProduct,
// ErrUnknownMarketplace, ErrUnknownImageType, ErrInvalidDimensions and
// ErrMissingProductData. Their messages are safe to show to the user.
package imaging
