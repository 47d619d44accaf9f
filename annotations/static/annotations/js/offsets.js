/*
 * offsets.js - UTF-16 <-> Unicode code point offsets, and word snapping. Pure, no DOM.
 *
 * The server counts Unicode code points (Python's text[start:end]); the browser's strings, DOM
 * ranges and selections count UTF-16 code units. An emoji, a flag half or a rare CJK character
 * outside the Basic Multilingual Plane is 1 code point but 2 UTF-16 units. Convert here, only.
 *
 * Exposed as the global `NewsroomOffsets` (no build step, loads as a classic script).
 */
(function (root) {
  "use strict";

  function isHigh(c) { return c >= 0xd800 && c <= 0xdbff; }
  function isLow(c) { return c >= 0xdc00 && c <= 0xdfff; }

  /** Index of one text: O(n) to build, O(log k) per conversion (k = astral characters). */
  function Utf16Index(text) {
    this.text = text;
    var units = [];  // UTF-16 position of each astral (surrogate pair) character
    for (var i = 0; i < text.length; i++) {
      if (isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
        units.push(i);
        i++;
      }
    }
    this.astralUnits = units;
    this.utf16Length = text.length;
    this.codePointLength = text.length - units.length;
  }

  // number of entries of sorted array `a` strictly below `x`
  function countBelow(a, x) {
    var lo = 0, hi = a.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (a[mid] < x) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** UTF-16 unit offset -> code point offset. Throws inside a surrogate pair or out of range. */
  Utf16Index.prototype.toCodePoint = function (unit) {
    if (!Number.isInteger(unit) || unit < 0 || unit > this.utf16Length) {
      throw new RangeError("UTF-16 offset " + unit + " is outside the text (0.." + this.utf16Length + ")");
    }
    var before = countBelow(this.astralUnits, unit);
    if (before > 0 && this.astralUnits[before - 1] + 1 === unit) {
      throw new RangeError("UTF-16 offset " + unit + " falls inside a surrogate pair");
    }
    return unit - before;
  };

  /** Code point offset -> UTF-16 unit offset. */
  Utf16Index.prototype.toUtf16 = function (cp) {
    if (!Number.isInteger(cp) || cp < 0 || cp > this.codePointLength) {
      throw new RangeError("offset " + cp + " is outside the text (0.." + this.codePointLength + " code points)");
    }
    // astral characters whose code point index is below cp: astralUnits[j] - j is that index
    var lo = 0, hi = this.astralUnits.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (this.astralUnits[mid] - mid < cp) lo = mid + 1; else hi = mid;
    }
    return cp + lo;
  };

  var WORD = /[\p{L}\p{N}\p{M}\p{Pc}]/u;
  var SPACE = /\s/u;

  function cpBefore(text, i) {  // the code point ending at unit i, and its width
    var c = text.charCodeAt(i - 1);
    if (isLow(c) && i >= 2 && isHigh(text.charCodeAt(i - 2))) return [text.slice(i - 2, i), 2];
    return [text.charAt(i - 1), 1];
  }

  function cpAt(text, i) {  // the code point starting at unit i, and its width
    var c = text.charCodeAt(i);
    if (isHigh(c) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) return [text.slice(i, i + 2), 2];
    return [text.charAt(i), 1];
  }

  function isWordChar(ch) { return WORD.test(ch); }
  // an apostrophe, hyphen or zero-width joiner between two word characters belongs to the word
  // (don't, well-known, joined Indic letters); a joiner between emoji does not make them a word
  function joinerAt(text, i) {
    var ch = text.charAt(i);
    return (ch === "'" || ch === "\u2019" || ch === "-" || ch === "\u200d") && i > 0 && i + 1 < text.length &&
      isWordChar(cpBefore(text, i)[0]) && isWordChar(cpAt(text, i + 1)[0]);
  }

  // Grapheme clusters (an emoji family, a flag, a letter and its marks) are never cut: a boundary
  // inside one moves to its start (for a start) or its end (for an end).
  var segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  function clusterStart(text, i) {
    if (!segmenter || i <= 0 || i >= text.length) return i;
    return segmenter.segment(text).containing(i).index;
  }
  function clusterEnd(text, i) {
    if (!segmenter || i <= 0 || i >= text.length) return i;
    var seg = segmenter.segment(text).containing(i);
    return seg.index === i ? i : seg.index + seg.segment.length;
  }
  function inWord(text, i) { return i >= 0 && i < text.length && (isWordChar(cpAt(text, i)[0]) || joinerAt(text, i)); }

  /**
   * Snap a UTF-16 selection [start, end) to whole words: a partly selected word is taken whole,
   * surrounding white space is dropped. Returns [start, end] or null if nothing but space is left.
   */
  function snapToWords(text, start, end) {
    if (end < start) { var t = start; start = end; end = t; }
    while (start < end && SPACE.test(text.charAt(start))) start++;
    while (end > start && SPACE.test(text.charAt(end - 1))) end--;
    if (start >= end) return null;
    if (isLow(text.charCodeAt(start)) && start > 0) start--;  // never start inside a pair
    if (isHigh(text.charCodeAt(end - 1)) && end < text.length) end++;
    if (inWord(text, start)) {
      while (start > 0) {
        var prev = cpBefore(text, start);
        if (isWordChar(prev[0]) || joinerAt(text, start - prev[1])) start -= prev[1]; else break;
      }
    }
    if (end > 0 && inWord(text, end - cpBefore(text, end)[1])) {
      while (end < text.length && inWord(text, end)) end += cpAt(text, end)[1];
    }
    return [clusterStart(text, start), clusterEnd(text, end)];
  }

  /** UTF-16 position of the end of the word at/after `pos` (for keyboard selection). */
  function nextWordEnd(text, pos) {
    var i = pos;
    while (i < text.length && !inWord(text, i)) i += cpAt(text, i)[1];
    while (i < text.length && inWord(text, i)) i += cpAt(text, i)[1];
    return clusterEnd(text, i);
  }

  /** UTF-16 position of the start of the word at/before `pos`. */
  function prevWordStart(text, pos) {
    var i = pos;
    while (i > 0 && !inWord(text, i - cpBefore(text, i)[1])) i -= cpBefore(text, i)[1];
    while (i > 0 && inWord(text, i - cpBefore(text, i)[1])) i -= cpBefore(text, i)[1];
    return clusterStart(text, i);
  }

  /** Number of code points in a string. */
  function codePointLength(s) { return new Utf16Index(s).codePointLength; }

  var api = {
    Utf16Index: Utf16Index,
    snapToWords: snapToWords,
    nextWordEnd: nextWordEnd,
    prevWordStart: prevWordStart,
    codePointLength: codePointLength,
  };
  root.NewsroomOffsets = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
