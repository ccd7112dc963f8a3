// Fixture files for the e2e checks, made on the fly so nothing binary is
// committed: a product photo (a mug on a plain light backdrop, 1600 px) as
// PNG, and a text file named like a photo.

import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const crcTable = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** encodePNG encodes 8-bit RGB pixels (width*height*3 bytes) as a PNG. */
export function encodePNG(width, height, rgb) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    rgb.copy(raw, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** productPhoto draws a teal mug with a handle and a soft shadow on a light grey backdrop. */
export function productPhoto(size = 1600) {
  const rgb = Buffer.alloc(size * size * 3);
  const s = size / 1600;
  const body = { x0: 520 * s, x1: 1040 * s, y0: 430 * s, y1: 1130 * s, r: 60 * s };
  const handle = { cx: 1060 * s, cy: 760 * s, ro: 190 * s, ri: 120 * s };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 244, g = 244, b = 242;
      // Soft elliptical shadow under the mug.
      const sx = (x - 800 * s) / (420 * s), sy = (y - 1160 * s) / (45 * s);
      const sd = sx * sx + sy * sy;
      if (sd < 1) {
        const k = 1 - 0.18 * (1 - sd);
        r *= k; g *= k; b *= k;
      }
      // The handle: a ring to the right of the body.
      const hx = x - handle.cx, hy = y - handle.cy, hd = Math.hypot(hx, hy);
      const inHandle = hd < handle.ro && hd > handle.ri && x > body.x1 - 10 * s;
      // The body: a rounded rectangle, shaded left to right like a cylinder.
      const cx = Math.min(Math.max(x, body.x0 + body.r), body.x1 - body.r);
      const cy = Math.min(Math.max(y, body.y0 + body.r), body.y1 - body.r);
      const inBody = x >= body.x0 && x <= body.x1 && y >= body.y0 && y <= body.y1 && Math.hypot(x - cx, y - cy) <= body.r;
      if (inBody || inHandle) {
        const t = inBody ? (x - body.x0) / (body.x1 - body.x0) : 0.8;
        const light = 0.65 + 0.45 * Math.sin(Math.PI * Math.min(1, t * 1.15));
        r = 28 * light; g = 140 * light; b = 150 * light;
        if (inBody && y < body.y0 + 40 * s) { r = 20; g = 95; b = 104; }
      }
      const i = (y * size + x) * 3;
      rgb[i] = Math.min(255, r); rgb[i + 1] = Math.min(255, g); rgb[i + 2] = Math.min(255, b);
    }
  }
  return encodePNG(size, size, rgb);
}

/** writeFixtures writes photo.png and not-a-photo.jpg into dir and returns their paths. */
export function writeFixtures(dir) {
  const photo = `${dir}/mug.png`;
  const text = `${dir}/not-a-photo.jpg`;
  writeFileSync(photo, productPhoto());
  writeFileSync(text, 'This is a text file with a .jpg name.\nIt is not an image.\n');
  return { photo, text };
}
