// The AWS Nitro Enclaves Root G1 certificate, built in so that no root is
// ever fetched from the server being verified (same PEM as
// src/attest/aws_root.c), checked against its SHA-256 pin before each use.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from './bytes.js';
import { pemToDer } from './x509.js';

export const AWS_NITRO_ROOT_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';
export const AWS_NITRO_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
IwLz3/Y=
-----END CERTIFICATE-----
`;

export function awsRootDer() {
  const der = pemToDer(AWS_NITRO_ROOT_PEM);
  if (!der || hex(sha256(der)) !== AWS_NITRO_ROOT_SHA256) throw new Error('the built-in AWS root does not match its pin');
  return der;
}

// {der, aws, name} for options.root (a PEM string: a development root named
// explicitly) or the built-in AWS root. A PEM that is the AWS root itself
// counts as the AWS root (its rules apply).
export function chooseRoot(pem) {
  const aws = awsRootDer();
  if (pem === undefined || pem === null) return { der: aws, aws: true, name: 'the pinned AWS Nitro root' };
  const der = pemToDer(pem);
  if (!der) return null;
  const isAws = hex(sha256(der)) === AWS_NITRO_ROOT_SHA256;
  return { der, aws: isAws, name: isAws ? 'the pinned AWS Nitro root' : 'a DEVELOPMENT root' };
}
