import { compileSource, presetsOf, readSpec } from '../driver.js';
import { oneFile, str, type Args } from './main.js';

/** Silent on success. Without --preset, the defaults and every preset are checked. */
export default async function check(a: Args): Promise<number> {
  const file = oneFile(a);
  const source = readSpec(file);
  const p = str(a, 'preset');
  const presets = p !== undefined ? [p] : [undefined, ...presetsOf(source)];
  for (const preset of presets) compileSource(source, file, { preset });
  return 0;
}
