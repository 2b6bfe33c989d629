/** Prints the command reference of docs/cli.md from the command table: `npx tsx scripts/cli-doc.ts`. */
import { commandHelp } from '../src/cli/args.js';
import { COMMANDS } from '../src/cli/main.js';

const parts = Object.entries(COMMANDS).map(([name, c]) => `### tfx ${name}\n\n\`\`\`\n${commandHelp(name, c).trimEnd()}\n\`\`\`\n`);
process.stdout.write(parts.join('\n'));
