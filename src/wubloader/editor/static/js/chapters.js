// Chapter markers: (wall time, title) pairs inside the ranges, written at the end of the description
// as `M:SS - title` lines in time of the output video (transitions overlap, so they are subtracted).

export const DELIMITER = '\n==========\n';
const MIN_GAP_SECONDS = 10;

/** Seconds into the output video of wall time `when`, or null if it is in no range. */
export function outputSeconds(when, ranges, transitions) {
  let offset = 0;
  for (const [i, [start, end]] of ranges.entries()) {
    if (i > 0 && transitions[i - 1]) offset -= transitions[i - 1][1];
    if (when >= start && when <= end) return offset + (when - start) / 1000;
    offset += (end - start) / 1000;
  }
  return null;
}

/** The wall time at `seconds` into the output video (the inverse of outputSeconds), or null. */
export function wallAt(seconds, ranges, transitions) {
  let offset = 0;
  for (const [i, [start, end]] of ranges.entries()) {
    if (i > 0 && transitions[i - 1]) offset -= transitions[i - 1][1];
    const length = (end - start) / 1000;
    if (seconds >= offset && seconds <= offset + length) return new Date(start.getTime() + (seconds - offset) * 1000);
    offset += length;
  }
  return null;
}

function stamp(seconds, hours) {
  const s = Math.floor(seconds);
  const pad = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  return hours ? `${h}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` : `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

/** The description block for `chapters` ([{time: Date, title}]); throws an Error naming a bad chapter. */
export function chapterBlock(chapters, ranges, transitions, { strict }) {
  const total = ranges.reduce((sum, [a, b]) => sum + (b - a) / 1000, 0)
    - transitions.reduce((sum, t) => sum + (t ? t[1] : 0), 0);
  const times = chapters.map((c, i) => {
    const seconds = outputSeconds(c.time, ranges, transitions);
    if (seconds === null) throw new Error(`Chapter ${i + 1} (${c.time.toISOString().slice(11, 23)} UTC) is not inside any range.`);
    if (!c.title.trim()) throw new Error(`Chapter ${i + 1} needs a title.`);
    if (/[<>]/.test(c.title)) throw new Error(`Chapter ${i + 1} may not contain < or >.`);
    return seconds;
  });
  if (times.length && Math.round(times[0]) !== 0) throw new Error('The first chapter must be at the start of the first range.');
  times.forEach((t, i) => {
    if (i && t <= times[i - 1]) throw new Error(`Chapter ${i + 1} must come after chapter ${i}.`);
    if (strict && i && t - times[i - 1] < MIN_GAP_SECONDS) throw new Error(`Chapters ${i} and ${i + 1} must be at least ${MIN_GAP_SECONDS} s apart.`);
  });
  const lines = chapters.map((c, i) => `${stamp(times[i], total >= 3600)} - ${c.title.trim()}`);
  return DELIMITER + lines.join('\n');
}

/** Split a saved description into its text and chapters (mapped back onto the ranges). */
export function splitChapters(description, ranges, transitions) {
  const at = description.indexOf(DELIMITER);
  if (at < 0) return { text: description, chapters: [] };
  const chapters = [];
  for (const line of description.slice(at + DELIMITER.length).split('\n')) {
    const match = /^(?:(\d+):)?(\d+):(\d\d) - (.*)$/.exec(line);
    if (!match) continue;
    const seconds = Number(match[1] ?? 0) * 3600 + Number(match[2]) * 60 + Number(match[3]);
    const time = wallAt(seconds, ranges, transitions);
    if (time) chapters.push({ time, title: match[4] });
  }
  return { text: description.slice(0, at), chapters };
}

/** The chapter list widget: add at the playhead, edit titles, remove. */
export class ChapterList {
  constructor(container, { player, formatTime, onChange }) {
    Object.assign(this, { container, player, formatTime, onChange, chapters: [] });
  }

  set(chapters) {
    this.chapters = chapters;
    this.render();
  }

  addAtPlayhead() {
    const time = this.player.wallTime();
    if (!time) return;
    this.chapters.push({ time, title: '' });
    this.chapters.sort((a, b) => a.time - b.time);
    this.render();
    this.onChange();
  }

  render() {
    this.container.replaceChildren(...this.chapters.map((chapter, i) => {
      const title = Object.assign(document.createElement('input'), { type: 'text', value: chapter.title, className: 'chapter-title' });
      title.setAttribute('aria-label', `Chapter ${i + 1} title`);
      title.addEventListener('input', () => { chapter.title = title.value; });
      const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Remove' });
      remove.setAttribute('aria-label', `Remove chapter ${i + 1}`);
      remove.addEventListener('click', () => { this.chapters.splice(i, 1); this.render(); this.onChange(); });
      const item = document.createElement('li');
      item.append(`${this.formatTime(chapter.time)} `, title, ' ', remove);
      return item;
    }));
  }
}
