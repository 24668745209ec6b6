/* Included first by every enclave-only header: host (PA_TRUST_HOST) and
 * client-library (PA_TRUST_CLIENT) sources that reach such a header do not
 * compile, so the trust split is the compiler's to enforce, not only the link
 * check's (docs/DEVELOPING.md, "Trust split"). No include guard on purpose:
 * every inclusion checks. */
#ifdef PA_TRUST_HOST
#error "enclave-only header included in host code"
#endif
#ifdef PA_TRUST_CLIENT
#error "enclave-only header included in client code"
#endif
