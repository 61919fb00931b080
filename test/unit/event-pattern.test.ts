import { describe, expect, it } from 'vitest';
import { compileEventPattern, InvalidEventPatternError } from '../../infra/local/event-pattern';
import { BASE_EVENT as baseEvent, CASE_FILES as caseFiles, loadCase as load } from '../support/conformance';

// Each shared conformance case is its own test: the local EventBridge must agree with all of them.

describe('EventBridge pattern conformance cases', () => {
  it('finds all the cases', () => {
    expect(caseFiles).toHaveLength(126);
  });

  it.each(caseFiles)('%s', (name) => {
    const doc = load(name);
    if (!('EventPattern' in doc)) {
      // complex_multi_key_event_pattern.json is a bare pattern (its event is not shared) with a
      // duplicated key; a JSON parser keeps the last one. AWS accepts it, so it must compile.
      const compiled = compileEventPattern(doc);
      expect(compiled.matches({ ...baseEvent, detail: { location: 'us-west-2' } })).toBe(true);
      return;
    }
    const stem = name.replace(/\.json5?$/, '');
    if (stem.endsWith('_EXC')) {
      expect(() => compileEventPattern(doc.EventPattern)).toThrow(InvalidEventPatternError);
      return;
    }
    const compiled = compileEventPattern(doc.EventPattern);
    expect(compiled.matches(doc.Event)).toBe(!stem.endsWith('_NEG'));
  });
});

describe('compileEventPattern beyond the shared cases', () => {
  const matches = (pattern: unknown, detail: unknown) =>
    compileEventPattern(pattern).matches({ ...baseEvent, detail });

  it('reports errors with AWS name and message style', () => {
    const error = (() => {
      try {
        compileEventPattern({ source: 'x' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect(error).toMatchObject({
      name: 'InvalidEventPatternException',
      message: 'Event pattern is not valid. Reason: "source" must be an object or an array',
    });
    expect(() => compileEventPattern(['x'])).toThrow(InvalidEventPatternError);
    expect(() => compileEventPattern({ a: [] })).toThrow(/Empty arrays are not allowed/);
  });

  it('handles nested $or combined with sibling keys', () => {
    const pattern = {
      source: ['test-source'],
      detail: {
        $or: [{ kind: ['a'] }, { $or: [{ size: [{ numeric: ['>', 10] }] }, { tag: [{ prefix: 'x-' }] }] }],
      },
    };
    expect(matches(pattern, { kind: 'a' })).toBe(true);
    expect(matches(pattern, { size: 11 })).toBe(true);
    expect(matches(pattern, { tag: 'x-1' })).toBe(true);
    expect(matches(pattern, { kind: 'b', size: 10, tag: 'y' })).toBe(false);
    expect(() => compileEventPattern({ $or: [{ a: ['x'] }] })).toThrow(InvalidEventPatternError);
  });

  it('evaluates numeric ranges at their bounds', () => {
    const p = { detail: { n: [{ numeric: ['>=', 0, '<', 5.5] }] } };
    expect(matches(p, { n: 0 })).toBe(true);
    expect(matches(p, { n: 5.4 })).toBe(true);
    expect(matches(p, { n: 5.5 })).toBe(false);
    expect(matches(p, { n: -1 })).toBe(false);
    expect(matches(p, { n: [7, 3] })).toBe(true);
    expect(() => compileEventPattern({ n: [{ numeric: ['<', 5, '>', 1] }] })).toThrow(
      InvalidEventPatternError,
    );
    expect(() => compileEventPattern({ n: [{ numeric: ['>', 5, '<', 1] }] })).toThrow(
      /Bottom must be less than top/,
    );
    expect(() => compileEventPattern({ n: [{ numeric: ['>', '5'] }] })).toThrow(InvalidEventPatternError);
  });

  it('matches IPv4 and IPv6 networks', () => {
    const v6 = { detail: { ip: [{ cidr: '2001:db8::/32' }] } };
    expect(matches(v6, { ip: '2001:db8:ffff::1' })).toBe(true);
    expect(matches(v6, { ip: '2001:db9::1' })).toBe(false);
    expect(matches(v6, { ip: '10.0.0.1' })).toBe(false);
    const v4 = { detail: { ip: [{ cidr: '10.0.0.0/8' }] } };
    expect(matches(v4, { ip: '10.255.0.1' })).toBe(true);
    expect(matches(v4, { ip: '11.0.0.1' })).toBe(false);
    expect(() => compileEventPattern({ ip: [{ cidr: '10.0.0.0/33' }] })).toThrow(InvalidEventPatternError);
  });

  it('supports wildcard escapes and refuses consecutive stars', () => {
    const p = { detail: { f: [{ wildcard: 'a\\*b*' }] } };
    expect(matches(p, { f: 'a*bcd' })).toBe(true);
    expect(matches(p, { f: 'axbcd' })).toBe(false);
    expect(() => compileEventPattern({ f: [{ wildcard: 'a**' }] })).toThrow(/Consecutive wildcard/);
  });

  it('treats a null field as present for exists and absent values as missing', () => {
    expect(matches({ detail: { v: [{ exists: true }] } }, { v: null })).toBe(true);
    expect(matches({ detail: { v: [{ exists: false }] } }, { v: [] })).toBe(true);
    expect(matches({ detail: { v: [{ exists: true }] } }, { v: { nested: 1 } })).toBe(false);
  });

  it('does not coerce between strings and numbers', () => {
    expect(matches({ detail: { v: [300] } }, { v: '300' })).toBe(false);
    expect(matches({ detail: { v: ['300'] } }, { v: 300 })).toBe(false);
    expect(matches({ detail: { v: [300] } }, { v: 300.0 })).toBe(true);
  });
});
