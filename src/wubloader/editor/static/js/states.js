// What an event's state allows: which actions are enabled and which inputs may change (one table).

export const STATES = ['UNEDITED', 'EDITED', 'CLAIMED', 'FINALIZING', 'TRANSCODING', 'DONE', 'MODIFIED'];

const EDITABLE = ['UNEDITED', 'EDITED', 'CLAIMED'];
const PUBLISHED = ['DONE', 'MODIFIED'];

/** Action → the states in which thrimshim accepts it (and the button is enabled). */
export const ACTION_STATES = {
  submit: EDITABLE,
  saveDraft: EDITABLE,
  submitChanges: PUBLISHED,
  // A cancel puts an EDITED/CLAIMED row back to UNEDITED; on an UNEDITED row there is nothing to cancel.
  cancelUpload: ['EDITED', 'CLAIMED'],
  // The force reset is accepted in every state (the operator deals with an uploaded video).
  forceReset: STATES,
  manualLink: ['UNEDITED'],
};

export function allows(action, state) {
  return ACTION_STATES[action].includes(state);
}

/** Ranges, transitions and the cut options change only before the video is cut. */
export function rangesEditable(state) {
  return EDITABLE.includes(state);
}

/** Title, description, tags, visibility and thumbnail change before the cut and after publishing. */
export function metadataEditable(state) {
  return EDITABLE.includes(state) || PUBLISHED.includes(state);
}
