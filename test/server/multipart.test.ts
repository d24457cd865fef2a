import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '../../src/errors.ts';
import { type MultipartLimits, multipartBoundary, parseMultipart } from '../../src/server/multipart.ts';

const limits: MultipartLimits = { maxFiles: 2, maxFileBytes: 100, maxFields: 3, maxFieldBytes: 10 };
const TYPE = 'multipart/form-data; boundary=XYZ';

/** A form as a browser writes it: each part's headers, CRLF CRLF, content, CRLF, the next boundary. */
function form(parts: { headers: string[]; content: string | Buffer }[], epilogue = ''): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts)
    chunks.push(
      Buffer.from(`--XYZ\r\n${p.headers.join('\r\n')}\r\n\r\n`),
      Buffer.from(p.content),
      Buffer.from('\r\n'),
    );
  chunks.push(Buffer.from(`--XYZ--\r\n${epilogue}`));
  return Buffer.concat(chunks);
}
const file = (name: string, filename: string, content: string | Buffer, type = 'image/png') => ({
  headers: [
    `Content-Disposition: form-data; name="${name}"; filename="${filename}"`,
    `Content-Type: ${type}`,
  ],
  content,
});
const field = (name: string, value: string) => ({
  headers: [`content-disposition: form-data; name="${name}"`],
  content: value,
});
const parse = (body: Buffer, type = TYPE) => parseMultipart(body, type, limits);

describe('parseMultipart', () => {
  it('returns files with their bytes and fields with their text, in order', () => {
    // Binary content with CR LF, and the boundary but not after a CR LF (there it would end the part).
    const bytes = Buffer.from([0x89, 0x0d, 0x0a, 0x2d, 0x58, 0x41, 0x2d, 0x2d, 0x58, 0x59, 0x5a, 0x00, 0xff]);
    const out = parse(form([field('k', '3'), file('image', 'a.png', bytes), field('title', 'Été')]));
    expect(out.files).toHaveLength(1);
    expect(out.files[0]).toMatchObject({ field: 'image', filename: 'a.png', type: 'image/png' });
    expect(Buffer.compare(out.files[0].bytes, bytes)).toBe(0);
    expect({ ...out.fields }).toEqual({ k: '3', title: 'Été' });
  });

  it('ignores a preamble and an epilogue, takes quoted and RFC 5987 parameters and an empty file', () => {
    const body = Buffer.concat([
      Buffer.from('preamble\r\n'),
      form(
        [
          {
            headers: [`Content-Disposition: form-data; name="image"; filename*=UTF-8''%C3%A9t%C3%A9.png`],
            content: '',
          },
          { headers: ['Content-Disposition: form-data; name="q\\"x"'], content: 'v' },
        ],
        'epilogue',
      ),
    ]);
    const out = parse(body, 'multipart/form-data; boundary="XYZ"');
    expect(out.files[0]).toMatchObject({ field: 'image', filename: 'été.png', type: '' });
    expect(out.files[0].bytes.length).toBe(0);
    expect(out.fields['q"x']).toBe('v');
  });

  it('reads the boundary from the Content-Type, quoted or not', () => {
    expect(multipartBoundary('multipart/form-data; boundary=----abc123')).toBe('----abc123');
    expect(multipartBoundary('multipart/form-data; charset=utf-8; BOUNDARY="a b"')).toBe('a b');
    expect(() => multipartBoundary('multipart/form-data')).toThrow(/no boundary/);
  });

  it('refuses more files or fields than allowed and a file over its size with 413', () => {
    const png = 'x'.repeat(10);
    const cases = [
      form([file('image', 'a', png), file('image', 'b', png), file('image', 'c', png)]),
      form([field('a', '1'), field('b', '2'), field('c', '3'), field('d', '4')]),
      form([file('image', 'a', 'x'.repeat(101))]),
    ];
    for (const body of cases) expect(() => parse(body)).toThrow(PayloadTooLargeError);
    expect(() => parse(form([field('title', 'x'.repeat(11))]))).toThrow(/too long/);
  });

  it('refuses bodies that do not follow the format with 400 INVALID_MULTIPART', () => {
    const good = form([file('image', 'a.png', 'data')]);
    const broken = [
      good.subarray(0, good.length - 12), // no closing boundary
      Buffer.from(good.toString('latin1').replaceAll('XYZ', 'ABC'), 'latin1'), // another boundary
      Buffer.from('--XYZ\r\n\u0000\u0001garbage\r\n\r\n\r\n--XYZ--\r\n'),
      Buffer.from('--XYZ\r\nContent-Type: image/png\r\n\r\ndata\r\n--XYZ--\r\n'), // no disposition
      Buffer.from('--XYZ\r\nContent-Disposition: form-data\r\n\r\ndata\r\n--XYZ--\r\n'), // no name
      Buffer.from('--XYZ\r\nContent-Disposition: form-data; name="a"'), // headers never end
      Buffer.from('--XYZjunk\r\n'),
    ];
    for (const body of broken) {
      let error: unknown;
      try {
        parse(body);
      } catch (err) {
        error = err;
      }
      expect(error, body.toString('latin1')).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe('INVALID_MULTIPART');
    }
  });
});
