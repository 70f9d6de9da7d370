import type { Diagnostic, FieldPath } from '../model/diagnostic.js';
import { positionAt, type YamlSource } from './yaml-source.js';

/**
 * The two spec files as parsed, and the problems found in them so far: what every step of loading
 * reads and adds to. A problem is located by the file and the path of the field it is about.
 */
export class SpecFiles {
  readonly problems: Diagnostic[] = [];
  /** What is likely a mistake but does not stop a run (an identity file that is not there). */
  readonly warnings: Diagnostic[] = [];

  constructor(
    readonly inventory: YamlSource,
    readonly setup: YamlSource,
  ) {}

  /** Adds a problem at a field of one of the files (or at its nearest existing parent). */
  problem(source: YamlSource, path: FieldPath, message: string): void {
    this.problems.push({ file: source.file, ...positionAt(source, path), message });
  }
}
