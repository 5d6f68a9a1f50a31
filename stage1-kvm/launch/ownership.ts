// The shift walker is shared with app/add (an added app's tree gets the same ownership as the boot-time ones).
export { shiftId, shiftTree, type IdRange } from '../../stage1-shared/app/ownership.js';
