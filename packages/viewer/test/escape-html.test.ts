import { describe, expect, it } from 'vitest';
import { indexHtml } from '../src/build/index-html';
import { escapeHtml } from '../src/escape-html';

describe('escapeHtml', () => {
  it('turns markup characters into entities', () => {
    expect(escapeHtml('<img src=x onerror=alert(1)>')).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(escapeHtml(`a & "b" 'c'`)).toBe('a &amp; &quot;b&quot; &#39;c&#39;');
  });

  it('leaves other text alone, including entities-to-be and non-ASCII', () => {
    expect(escapeHtml('striped zebra — naïve 😀')).toBe('striped zebra — naïve 😀');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });
});

describe('indexHtml', () => {
  it('writes the title as text and loads only local scripts under a strict policy', () => {
    const html = indexHtml('</title><script>alert(1)</script>');
    expect(html).toContain('<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(html.match(/<script/g)).toEqual(['<script']);
    expect(html).toContain('<script src="app.js" defer></script>');
    expect(html).toContain("script-src 'self'");
  });
});
