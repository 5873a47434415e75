/**
 * Options many commands share. They live apart from any one command so that
 * command modules import them without importing each other (`lab` registers
 * `lab pod`, which takes --lab too).
 */
import { Option } from 'commander';

/** `--lab` on every lab-scoped command; the `lab` subcommands also take `--name`. */
export function labOption(): Option {
  return new Option('--lab <name>', 'the lab to act on (default: $BEELINE_LAB, else the only lab that is up)');
}
