// AWS Signature Version 4: request views, signing (client side) and verification (server side).
//
//   sigv4/request.h      RequestView, Header, PathMode
//   sigv4/signer.h       Signer, Credentials, SignedRequest
//   sigv4/verifier.h     Verifier, CredentialRecord, CredentialLookup, Caller
//   sigv4/signing_key.h  DeriveSigningKey, SigningKeyCache
//
// Canonicalization follows AWS's documentation and is checked against two public test suites
// (the AWS suite as shipped by mhart/aws4, and aws-c-auth's v4 suite). S3's path rules (no
// normalization, single encoding) are not implemented: Meridian serves KMS, Secrets Manager,
// IAM and STS only.
#pragma once

#include "sigv4/request.h"
#include "sigv4/signer.h"
#include "sigv4/signing_key.h"
#include "sigv4/verifier.h"
