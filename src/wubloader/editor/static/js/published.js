// Plays a published video in the page: a `local` location publishes MPEG-TS files, which a <video>
// element cannot play by itself, so hls.js plays them through a one-segment playlist made here.
import { Player } from './player.js';

/** True for links the page can play itself (MPEG-TS files published by a `local` location). */
export function playableInPage(link) {
  try {
    return new URL(link, location.href).pathname.endsWith('.ts');
  } catch {
    return false;
  }
}

/** Σ range lengths − Σ transition durations, in seconds: the length of the video the cutter makes. */
export function outputSeconds(ranges, transitions) {
  const total = ranges.reduce((sum, [a, b]) => sum + (b - a) / 1000, 0);
  return total - transitions.reduce((sum, t) => sum + (t ? t[1] : 0), 0);
}

/** A VOD playlist of the single file at `link`, `seconds` long, as a blob: URL (revoke when done). */
export function singleFilePlaylist(link, seconds) {
  const duration = Math.max(0.001, seconds).toFixed(3);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${Math.ceil(seconds)}`,
    '#EXT-X-PLAYLIST-TYPE:VOD', `#EXTINF:${duration},`, new URL(link, location.href).href, '#EXT-X-ENDLIST', ''];
  return URL.createObjectURL(new Blob([lines.join('\n')], { type: 'application/vnd.apple.mpegurl' }));
}

/** Play the published file `link` (`seconds` long) in `video`; returns a function that stops it. */
export function playPublished(video, link, seconds, onError) {
  const player = new Player(video, { onError });
  const playlist = singleFilePlaylist(link, seconds);
  player.load(playlist).then((ok) => { if (ok) video.play().catch(() => {}); });
  return () => {
    video.pause();
    player.destroy();
    URL.revokeObjectURL(playlist);
  };
}
