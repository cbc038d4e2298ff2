/** `isaac import`: shell history files (bash, zsh, fish) into the local store. */
export { IMPORT_COMMAND, IMPORT_USAGE, runImportCommand, summaryLine } from './cli.ts';
export { type ImportOptions, type ImportSummary, importHistory } from './import.ts';
export { defaultHistoryFile, detectShell } from './locate.ts';
export { type HistoryShell, parseBash, parseFish, parseZsh } from './parsers.ts';
