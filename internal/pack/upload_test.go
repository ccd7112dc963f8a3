package pack

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/imaging/imagingtest"
)

// TestUploadErrorForTheDecodeGuard: a photo refused by the decode guard is the user's to
// fix (EINVALID naming the limit); a decode that could not get budget before the request
// ended is the server's (EUNAVAILABLE).
func TestUploadErrorForTheDecodeGuard(t *testing.T) {
	t.Parallel()
	bomb := imagingtest.JPEG{Width: 6400, Height: 6250, Progressive: true, CMYK: true}.Bytes()
	_, _, err := imaging.DecodeBytes(context.Background(), bomb, imaging.Limits{})
	ae := apperr.As(uploadError(err, "amazon"))
	if ae == nil || ae.Code != apperr.EINVALID || !strings.Contains(ae.Message, "progressive or CMYK") || ae.Fields["file"] == "" {
		t.Errorf("progressive CMYK bomb: %+v; want EINVALID naming the progressive/CMYK limit", ae)
	}
	busy := fmt.Errorf("%w: %w", imaging.ErrDecodeBusy, context.Canceled)
	if ae := apperr.As(uploadError(busy, "amazon")); ae == nil || ae.Code != apperr.EUNAVAILABLE {
		t.Errorf("busy: %+v; want EUNAVAILABLE", ae)
	}
}
