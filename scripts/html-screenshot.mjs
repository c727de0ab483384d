// Checks what headless Chromium made of index.html (scripts/html-screenshot.sh):
//   node html-screenshot.mjs DOM.html SHOT.png
// DOM.html (--dump-dom, after the page's scripts ran) must say the plots
// were drawn and hold an <svg> in each plot container; SHOT.png must not be
// blank: many distinct colours, and a fair share of non-white pixels.
// Exit 0 when both hold, 1 with the reasons on stderr.
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

const PLOTS = ['plot-hist', 'plot-h', 'plot-logit'];

function checkDom(html) {
  const problems = [];
  if (!/<body[^>]*data-plots="ok"/.test(html))
    problems.push('the page did not mark its plots drawn (body data-plots is not "ok")');
  for (const id of PLOTS) {
    const at = html.indexOf(`id="${id}"`);
    const end = at < 0 ? -1 : html.indexOf('</figure>', at);
    if (at < 0 || end < 0 || !html.slice(at, end).includes('<svg'))
      problems.push(`no <svg> inside #${id}`);
  }
  return problems;
}

// The PNG's chunks: IHDR fields and the concatenated IDAT data.
function chunks(png) {
  const sig = '89504e470d0a1a0a';
  if (png.subarray(0, 8).toString('hex') !== sig) throw new Error('not a PNG');
  let at = 8, ihdr = null;
  const idat = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at), type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  if (!ihdr) throw new Error('PNG without IHDR');
  return { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), depth: ihdr[8],
           colour: ihdr[9], interlace: ihdr[12], data: Buffer.concat(idat) };
}

function paeth(a, b, c) {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// Undo the per-row filters (PNG spec, section 9) in place; rows of STRIDE bytes.
function unfilter(raw, height, stride, bpp) {
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)], row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type];
      out[y * stride + x] = (row[x] + pred) & 255;
    }
  }
  return out;
}

function checkShot(png) {
  const c = chunks(png);
  const bpp = { 2: 3, 6: 4 }[c.colour];
  if (c.depth !== 8 || !bpp || c.interlace !== 0)
    return [`unsupported PNG (depth ${c.depth}, colour type ${c.colour}, interlace ${c.interlace})`];
  const px = unfilter(inflateSync(c.data), c.height, c.width * bpp, bpp);
  const colours = new Set();
  let inked = 0;
  for (let i = 0; i < px.length; i += bpp) {
    colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
    inked += px[i] + px[i + 1] + px[i + 2] < 3 * 250;
  }
  const share = inked / (c.width * c.height);
  console.log(`screenshot ${c.width}x${c.height}: ${colours.size} colours, ` +
              `${(100 * share).toFixed(1)}% non-white`);
  const problems = [];
  if (colours.size < 32) problems.push(`only ${colours.size} distinct colours: blank?`);
  if (share < 0.02) problems.push(`only ${(100 * share).toFixed(2)}% of the pixels are not white`);
  return problems;
}

const [dom, shot] = process.argv.slice(2);
if (!dom || !shot) {
  console.error('usage: node html-screenshot.mjs DOM.html SHOT.png');
  process.exit(2);
}
const problems = [...checkDom(readFileSync(dom, 'utf8')), ...checkShot(readFileSync(shot))];
for (const p of problems) console.error(`html-screenshot: ${p}`);
process.exit(problems.length ? 1 : 0);
