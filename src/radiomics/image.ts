/** The engine's image types live with the volumes (src/volume/image.ts); re-exported for the radiomics modules. */
export type { PixelType, RImage, RMask } from '../volume/image.js';
