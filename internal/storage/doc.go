// Package storage keeps packshot's blobs: uploaded photos, generated images and packs.
//
// Blobs are content-addressed: a blob's key is the SHA-256 of its bytes in hex plus an
// extension that records its media type ("3f2a…9c.jpg"), so storing the same bytes twice
// is one blob, a key never changes meaning, and anything served under it may be cached
// forever. Keys are checked against that exact form before they reach a file system or a
// bucket, which is also what keeps path traversal out.
//
// Two Stores implement the same behaviour: FS, files under the data dir written
// atomically (the default), and S3, any S3-compatible bucket, for more than one machine.
// Open picks one from the configuration. Nothing here knows which blobs are still
// wanted: pack.BlobCollector pages through a store with List and deletes the blobs no
// row references.
//
// Browsers fetch blobs through signed URLs, /files/<key>?exp=<unix>&sig=<mac>, that a
// Signer makes and FileServer checks: the HMAC binds the key and the expiry, so a link
// works in an <img> or <a href> without a header, only until it expires, and only for the
// blob it was made for.
package storage
