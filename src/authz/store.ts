import { CompiledPolicy } from './compile.ts'
import type { PolicyDocument } from './policy.ts'

/** Holds the active policy version; a request takes one snapshot and keeps it to the end. */
export class PolicyStore {
  private active: CompiledPolicy

  constructor(document: PolicyDocument, version = 1) {
    this.active = new CompiledPolicy(document, version)
  }

  get current(): CompiledPolicy {
    return this.active
  }
}
