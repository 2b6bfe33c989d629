import { SpecError, compileSource, presetsOf, readSpec } from '../driver.js';
import { formatDiagnostics, type Diagnostic } from '../dsl/diagnostics.js';
import { oneFile, str, type Args } from './main.js';

/**
 * Silent on success. Without --preset, the defaults and every preset are checked, all of them even after one
 * fails; an error found only under some presets names them in a note, one found under all is reported once.
 */
export default async function check(a: Args): Promise<number> {
  const file = oneFile(a);
  const source = readSpec(file);
  const p = str(a, 'preset');
  if (p !== undefined) { compileSource(source, file, { preset: p }); return 0; }
  const presets = [undefined, ...presetsOf(source)];
  const found = new Map<string, { d: Diagnostic; under: (string | undefined)[] }>();
  for (const preset of presets) {
    try { compileSource(source, file, { preset }); } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      for (const d of e.diagnostics) {
        // compileSource notes the preset; group on the diagnostic without that note.
        const base = preset === undefined ? d : { ...d, notes: d.notes.slice(0, -1) };
        const key = JSON.stringify([base.code, base.message, base.span.offset, base.notes.map((n) => n.message)]);
        const f = found.get(key);
        if (f) f.under.push(preset); else found.set(key, { d: base, under: [preset] });
      }
    }
  }
  if (found.size === 0) return 0;
  const diags = [...found.values()].map(({ d, under }) => under.length === presets.length ? d
    : { ...d, notes: [...d.notes, { message: `with ${under.map((u) => (u === undefined ? 'the defaults' : `preset '${u}'`)).join(', ')}` }] });
  throw new SpecError(formatDiagnostics(diags, file, source), diags);
}
