// Pod identity: HMAC-SHA512 signatures over (pod UUID bytes || content) under the service's per-instance key.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 64 random bytes, the size of an SHA-512 block half; new for every service instance, never stored. */
export function newHmacKey(): Buffer {
  return randomBytes(64);
}

const UUID_CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lower-case canonical UUID, or undefined. Accepts the canonical form or 32 bare hex digits, any case. */
export function canonicalUuid(s: string): string | undefined {
  const lower = s.trim().toLowerCase();
  if (UUID_CANONICAL.test(lower)) return lower;
  if (/^[0-9a-f]{32}$/.test(lower)) {
    return `${lower.slice(0, 8)}-${lower.slice(8, 12)}-${lower.slice(12, 16)}-${lower.slice(16, 20)}-${lower.slice(20)}`;
  }
  return undefined;
}

/** The 16 raw bytes of a canonical UUID: signing binds to these so that dashes or case cannot matter. */
export function uuidBytes(canonical: string): Buffer {
  return Buffer.from(canonical.replace(/-/g, ''), 'hex');
}

export function signContent(key: Buffer, uuid: string, content: Buffer): string {
  return createHmac('sha512', key).update(uuidBytes(uuid)).update(content).digest('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (Buffer.from would silently skip garbage), or undefined. */
export function decodeBase64(s: string): Buffer | undefined {
  return BASE64.test(s) ? Buffer.from(s, 'base64') : undefined;
}

/** Constant-time check of a signature made by signContent. */
export function verifyContent(key: Buffer, uuid: string, content: Buffer, signature: Buffer): boolean {
  const want = createHmac('sha512', key).update(uuidBytes(uuid)).update(content).digest();
  return signature.length === want.length && timingSafeEqual(signature, want);
}
