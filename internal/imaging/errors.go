package imaging

import "errors"

// Errors returned for input a user can fix. They are wrapped with details (sizes, limits),
// so compare with errors.Is; the wrapped message is readable as it stands and safe to show.
var (
	// ErrNotImage means the data is not in a supported image format (JPEG, PNG, GIF, WebP).
	ErrNotImage = errors.New("not a supported image (expected JPEG, PNG, GIF or WebP)")
	// ErrTruncated means the image data ends before the image does.
	ErrTruncated = errors.New("image file is truncated")
	// ErrCorrupt means the data claims to be an image but cannot be decoded.
	ErrCorrupt = errors.New("image file is corrupt")
	// ErrTooLarge means the file or the image's pixel count is over the limit.
	ErrTooLarge = errors.New("image is too large")
	// ErrDecodeBusy means an image was not decoded because the process-wide decode
	// budget stayed full until the caller's context ended; trying again later may work.
	ErrDecodeBusy = errors.New("the server is busy decoding other images")
	// ErrTooSmall means the image is smaller than the marketplace or the engine accepts.
	ErrTooSmall = errors.New("image is too small")
	// ErrNeedsAIBackgroundRemoval means the photo's background is not plain enough for
	// the local cut-out; an AI background remover is needed.
	ErrNeedsAIBackgroundRemoval = errors.New("background is not plain: needs AI background removal")
	// ErrNoProduct means no product could be separated from the background.
	ErrNoProduct = errors.New("no product found in the photo")
	// ErrUnknownMarketplace means the marketplace name is not one of Marketplaces.
	ErrUnknownMarketplace = errors.New("unknown marketplace")
	// ErrUnknownImageType means the image type is not one of ImageTypes.
	ErrUnknownImageType = errors.New("unknown image type")
	// ErrInvalidDimensions means a dimensions string could not be parsed.
	ErrInvalidDimensions = errors.New("invalid dimensions")
	// ErrMissingProductData means an image type needs project data that was not given
	// (features for the infographic, dimensions for the dimensions image).
	ErrMissingProductData = errors.New("missing product data")
)
