// A stand-in for the OpenAI Images API on a local port, so the e2e server
// has an "AI provider" whose answers the checks control: POST
// /v1/images/edits answers with a generated PNG and token usage, or, when
// the prompt contains FAIL-E2E, with OpenAI's safety refusal (a permanent
// failure). It prints "listening PORT" once it accepts connections.

import { createServer } from 'node:http';
import { productPhoto } from './fixtures.mjs';

const image = productPhoto(1024).toString('base64');

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('latin1');
    const send = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_e2e_${Date.now()}` });
      res.end(JSON.stringify(obj));
    };
    if (req.method !== 'POST' || !req.url.endsWith('/images/edits')) {
      return send(404, { error: { message: `Unknown request URL: ${req.method} ${req.url}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
    }
    if (body.includes('FAIL-E2E')) {
      return send(400, { error: { message: 'Your request was rejected by the safety system. safety_violations=[e2e].', type: 'image_generation_user_error', param: null, code: 'moderation_blocked' } });
    }
    send(200, {
      created: Math.floor(Date.now() / 1000),
      data: [{ b64_json: image }],
      background: 'opaque', output_format: 'png', size: '1024x1024', quality: 'medium',
      usage: { total_tokens: 1356, input_tokens: 300, output_tokens: 1056, input_tokens_details: { text_tokens: 60, image_tokens: 240 } },
    });
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
