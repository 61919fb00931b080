/**
 * The report page as a browser draws it: headless Chromium (the project's own, from the npm registry:
 * `test/support/chromium.ts`) takes a screenshot of the rendered fixture and hands back the DOM it built.
 * The PNG is decoded here (zlib only) to check that the charts were painted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHART_BAR_COLOR,
  CHART_HIGHLIGHT_COLOR,
  REPORT_CHARTS,
  renderReportHtml,
} from '../../shared/reporting/render-html';
import { launchChromium } from '../support/chromium';
import { reportFixture } from '../support/report-fixture';

const WIDTH = 1280;
const HEIGHT = 2400;

interface Png {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** Bytes per pixel (3 for RGB, 4 for RGBA). */
  channels: number;
  pixels: Buffer;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decodes a non-interlaced 8-bit RGB or RGBA PNG: IDAT chunks inflated, then each row's filter undone. */
function decodePng(file: Buffer): Png {
  if (!file.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG (bad signature)');
  let offset = 8;
  let header: Omit<Png, 'pixels' | 'channels'> | undefined;
  let interlace = 0;
  const data: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    const body = file.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        bitDepth: body[8] as number,
        colorType: body[9] as number,
      };
      interlace = body[12] as number;
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  if (!header) throw new Error('PNG without IHDR');
  if (header.bitDepth !== 8 || (header.colorType !== 2 && header.colorType !== 6) || interlace !== 0) {
    throw new Error(`unsupported PNG: bit depth ${header.bitDepth}, colour type ${header.colorType}`);
  }
  const channels = header.colorType === 6 ? 4 : 3;
  const stride = header.width * channels;
  const raw = inflateSync(Buffer.concat(data));
  if (raw.length !== (stride + 1) * header.height) throw new Error('PNG data has the wrong length');
  const pixels = Buffer.alloc(stride * header.height);
  for (let y = 0; y < header.height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = y * (stride + 1) + 1;
    const out = y * stride;
    for (let x = 0; x < stride; x++) {
      const value = raw[row + x] as number;
      const a = x >= channels ? (pixels[out + x - channels] as number) : 0;
      const b = y > 0 ? (pixels[out - stride + x] as number) : 0;
      const c = x >= channels && y > 0 ? (pixels[out - stride + x - channels] as number) : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`bad PNG filter ${filter} on row ${y}`);
      }
      pixels[out + x] = (value + predictor) & 0xff;
    }
  }
  return { ...header, channels, pixels };
}

const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

/** Pixels of exactly `hex` in the rectangle (whole image by default). */
function countColour(png: Png, hex: string, region = { x: 0, y: 0, width: png.width, height: png.height }) {
  const [r, g, b] = rgb(hex);
  let n = 0;
  for (let y = region.y; y < region.y + region.height; y++) {
    for (let x = region.x; x < region.x + region.width; x++) {
      const i = (y * png.width + x) * png.channels;
      if (png.pixels[i] === r && png.pixels[i + 1] === g && png.pixels[i + 2] === b) n++;
    }
  }
  return n;
}

/** Distinct colours in a rectangle (a blank region has one). */
function distinctColours(png: Png, region: { x: number; y: number; width: number; height: number }) {
  const seen = new Set<number>();
  for (let y = region.y; y < region.y + region.height; y++) {
    for (let x = region.x; x < region.x + region.width; x++) {
      const i = (y * png.width + x) * png.channels;
      seen.add(
        ((png.pixels[i] as number) << 16) |
          ((png.pixels[i + 1] as number) << 8) |
          (png.pixels[i + 2] as number),
      );
    }
  }
  return seen.size;
}

/** Rows that hold at least one pixel of `hex`. */
function rowsWith(png: Png, hex: string): number[] {
  const rows: number[] = [];
  for (let y = 0; y < png.height; y++) {
    if (countColour(png, hex, { x: 0, y, width: png.width, height: 1 }) > 0) rows.push(y);
  }
  return rows;
}

describe('report HTML in headless Chromium', () => {
  let dir = '';
  let png = Buffer.alloc(0);
  let dom = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'report-html-'));
    const htmlPath = join(dir, 'report.html');
    writeFileSync(htmlPath, renderReportHtml(reportFixture, { lang: 'en' }));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: WIDTH, height: HEIGHT, deviceScaleFactor: 1 });
      await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
      png = Buffer.from(await page.screenshot({ type: 'png' }));
      dom = await page.content();
    } finally {
      await browser.close();
    }
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes a PNG of the window size', () => {
    expect(png.length, 'screenshot is empty').toBeGreaterThan(1000);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // IHDR is the first chunk: length (4), type (4), width (4), height (4).
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(WIDTH);
    expect(png.readUInt32BE(20)).toBe(HEIGHT);
  });

  it('paints the charts: bar pixels in the bar colour, highlighted hours, a page that is not blank', () => {
    const image = decodePng(png);
    expect([image.width, image.height]).toEqual([WIDTH, HEIGHT]);
    // Bars of six charts: tens of thousands of pixels of exactly the bar colour.
    const bars = countColour(image, CHART_BAR_COLOR);
    expect(bars).toBeGreaterThan(20_000);
    // The three busiest hours' columns.
    expect(countColour(image, CHART_HIGHLIGHT_COLOR)).toBeGreaterThan(1_000);
    // Bars appear in several separate bands down the page (hours, channel/severity, category, ageing).
    const rows = rowsWith(image, CHART_BAR_COLOR);
    const bands = rows.filter((y, i) => i === 0 || y - (rows[i - 1] as number) > 40).length;
    expect(bands).toBeGreaterThanOrEqual(4);
    // Header and cards (top 700 px) and the lower half hold drawn content, not only background.
    expect(distinctColours(image, { x: 0, y: 0, width: WIDTH, height: 700 })).toBeGreaterThan(20);
    expect(distinctColours(image, { x: 0, y: 1200, width: WIDTH, height: 600 })).toBeGreaterThan(20);
  });

  it('has every chart as an accessible SVG in the DOM Chromium built', () => {
    expect(dom).toContain('<h1>Weekly report 2026-W47</h1>');
    for (const chart of REPORT_CHARTS) {
      expect(dom).toMatch(new RegExp(`<svg role="img" aria-label="[^"]+" data-chart="${chart}"`));
    }
    expect(dom.match(/<rect class="bar/g)?.length ?? 0).toBeGreaterThan(40);
  });
});
