// Reads the credential out of a baked badge (Open Badges 3.0 "Badge Baking"),
// written from the specification: PNG = an iTXt chunk with the keyword
// "openbadgecredential"; SVG = an <openbadges:credential> element in the
// namespace https://purl.imsglobal.org/ob/v3p0, with the JSON as its text
// (CDATA) or a JWT in its `verify` attribute. Exactly one credential per image.
import zlib from 'node:zlib';

const PNG_SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');
const KEYWORD = 'openbadgecredential';
const NAMESPACE = 'https://purl.imsglobal.org/ob/v3p0';

function pngTexts(data) {
  const found = [];
  for(let at = 8; at + 12 <= data.length;) {
    const length = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    const body = data.subarray(at + 8, at + 8 + length);
    if(zlib.crc32(data.subarray(at + 4, at + 8 + length)) !== data.readUInt32BE(at + 8 + length)) {
      throw new Error(`The PNG's ${type} chunk fails its CRC.`);
    }
    if(type === 'iTXt') {
      const end = body.indexOf(0);
      if(body.toString('latin1', 0, end) === KEYWORD) {
        const compressed = body[end + 1] === 1;
        const language = body.indexOf(0, end + 3);
        const translated = body.indexOf(0, language + 1);
        const text = body.subarray(translated + 1);
        found.push((compressed ? zlib.inflateSync(text) : text).toString('utf8'));
      }
    }
    if(type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  return found;
}

const unescapeXml = text => text
  .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
  .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
  .replace(/&(lt|gt|quot|apos);/g, (_, name) => ({lt: '<', gt: '>', quot: '"', apos: '\''})[name])
  .replace(/&amp;/g, '&');

function svgTexts(svg) {
  const found = [];
  const prefixes = [...svg.matchAll(/xmlns:([\w.-]+)\s*=\s*(["'])(.*?)\2/g)]
    .filter(m => m[3] === NAMESPACE).map(m => m[1]);
  for(const prefix of prefixes) {
    const element = new RegExp(`<${prefix}:credential\\b([^>]*?)(?:/>|>([\\s\\S]*?)</${prefix}:credential\\s*>)`, 'g');
    for(const [, attributes, content = ''] of svg.matchAll(element)) {
      const verify = attributes.match(/\bverify\s*=\s*(["'])(.*?)\1/s);
      if(verify) {
        found.push(unescapeXml(verify[2]));
      } else {
        const sections = [...content.matchAll(/<!\[CDATA\[([\s\S]*?)]]>/g)].map(m => m[1]);
        found.push(sections.length ? sections.join('') : unescapeXml(content));
      }
    }
  }
  return found;
}

/** {container, text} for a baked PNG or SVG; null when the bytes are not an image. */
export function unbake(data) {
  let container;
  let found;
  if(data.subarray(0, 8).equals(PNG_SIGNATURE)) {
    [container, found] = ['png', pngTexts(data)];
  } else {
    const text = data.toString('utf8');
    if(!/^\s*</.test(text) || !/<svg[\s>]/.test(text)) {
      return null;
    }
    [container, found] = ['svg', svgTexts(text)];
  }
  if(found.length !== 1) {
    throw new Error(`The ${container.toUpperCase()} holds ${found.length} credentials; a badge holds exactly one.`);
  }
  return {container, text: found[0]};
}
