// What this build of the pages trusts, built in so a page served by the
// operator cannot swap it without changing the page's published SHA-384.
//
// AWS_NITRO_ROOT_SHA256: the SHA-256 fingerprint of the AWS Nitro Enclaves
// Root G1 certificate (docs/PROTOCOL.md), the same pin as the C client's
// PA_AWS_NITRO_ROOT_SHA256; CryptoHelper carries the certificate itself.
//
// EXPECTED_PCRS: the production enclave image's PCRs (hex) once an EIF has
// been built from a release (docs/NITRO.md, "image_hash and PCR0"). None has
// been built yet, so none is pinned: the pages then ask for PCR0 and refuse
// the AWS root without it.
export const AWS_NITRO_ROOT_SHA256 = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";
export const EXPECTED_PCRS = Object.freeze({});
