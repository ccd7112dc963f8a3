package aitest

import "testing"

func TestWebPSize(t *testing.T) {
	t.Parallel()
	riff := func(chunk string, data ...byte) []byte {
		b := append([]byte("RIFF\x00\x00\x00\x00WEBP"+chunk+"\x00\x00\x00\x00"), data...)
		return append(b, make([]byte, 16)...)
	}
	tests := []struct {
		name string
		b    []byte
		w, h int
	}{
		// lossy: frame tag, start code, 14-bit width and height
		{"VP8", riff("VP8 ", 0, 0, 0, 0x9d, 0x01, 0x2a, 0x20, 0x03, 0x58, 0x02), 800, 600},
		// lossless: signature, then width-1 and height-1 in 14 bits each
		{"VP8L", riff("VP8L", 0x2f, byte(799&0xff), byte(799>>8|(599&0x3)<<6), byte(599>>2), byte(599>>10)), 800, 600},
		// extended: flags, then 24-bit canvas width-1 and height-1
		{"VP8X", riff("VP8X", 0, 0, 0, 0, 0x1f, 0x03, 0, 0x57, 0x02, 0), 800, 600},
	}
	for _, tt := range tests {
		w, h, ok := webpSize(tt.b)
		if !ok || w != tt.w || h != tt.h {
			t.Errorf("%s: got %dx%d %v, want %dx%d", tt.name, w, h, ok, tt.w, tt.h)
		}
	}
	if _, _, ok := webpSize([]byte("RIFF1234WEBPVP8 not really")); ok {
		t.Error("a truncated header was accepted")
	}
}
