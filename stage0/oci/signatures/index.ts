// OCI image signature verification: what the puller calls (verifyOciImage) and the formats' names.
export { verifyOciImage, type VerifyOciImageOptions, type OciVerification, type SignatureRegistry } from './verify.js';
export { sigstoreAttachmentTag, SIGSTORE_PAYLOAD_MEDIA_TYPE, SIGSTORE_SIGNATURE_ANNOTATION } from './sigstore.js';
export { lookasideSignatureUrl } from './simple.js';
export { registriesDirs, CONTAINERS_REGISTRIES_D } from './registries-d.js';
export { SIMPLE_SIGNING_TYPE, SIGSTORE_SIGNING_TYPE } from './payload.js';
