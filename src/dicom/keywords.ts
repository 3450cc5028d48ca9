/** DICOM attribute keywords of the standard data dictionary (dcmjs's copy of PS3.6). */
import dcmjs from 'dcmjs';

const { DicomMetaDictionary } = dcmjs.data;

/** The dictionary entry of a keyword (e.g. "PatientID"), or undefined. */
function entryOf(keyword: string): { tag: string; vr: string } | undefined {
  const e = (DicomMetaDictionary.nameMap as Record<string, { tag: string; vr: string } | undefined>)[keyword];
  return e && /^\([0-9A-F]{4},[0-9A-F]{4}\)$/i.test(e.tag) ? e : undefined;
}

export function isDicomKeyword(keyword: string): boolean {
  return entryOf(keyword) !== undefined;
}

/** "(0010,0020)" for "PatientID"; the keyword itself if unknown. */
export function tagOfKeyword(keyword: string): string {
  return entryOf(keyword)?.tag ?? keyword;
}
