// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto


export interface UiConfig {
  /**
   * The relay's gRPC address (unix:///…/observer.sock).
   */
  'relay'?: (string);
  /**
   * The lab's name, when the server was started for a lab.
   */
  'lab'?: (string);
  'version'?: (string);
}

export interface UiConfig__Output {
  /**
   * The relay's gRPC address (unix:///…/observer.sock).
   */
  'relay': (string);
  /**
   * The lab's name, when the server was started for a lab.
   */
  'lab': (string);
  'version': (string);
}
