/*
 * The content store's ingest writes, off the main thread: bytes go to a file and into a
 * SHA-256 in one job on libuv's thread pool, so a pull hashes and writes on the other cores
 * while the main thread keeps reading the network.
 *
 *   sha256Writer() -> handle            an External owning one SHA-256 state
 *   writeAndHash(handle, fd, buffers) -> Promise<number>
 *                                       writes every byte of `buffers` (Buffers or Uint8Arrays)
 *                                       to `fd` at its file offset, looping on short writes and
 *                                       EINTR, and feeds exactly the bytes written to the hash;
 *                                       resolves with their count. The buffers stay referenced
 *                                       until it settles and must not change meanwhile. Every
 *                                       8 MiB it also starts the file's writeback (see
 *                                       WRITE_BEHIND): the caller is expected to fsync.
 *   digestHex(handle) -> string         finishes the hash: 64 lower-case hex digits
 *
 * One writeAndHash at a time per handle (a second one throws ERR_INVALID_STATE); the caller
 * serializes, as a Writable does. A failed write rejects with an fs-shaped error (code,
 * errno, syscall) and breaks the handle: the file and the hash may no longer agree, so later
 * calls throw. After digestHex the handle takes nothing more.
 *
 * SHA-256 is OpenSSL's, from the Node binary itself: Node links OpenSSL 3 and exports its
 * symbols to addons (its headers ship with Node's, under openssl/), so this is the same
 * SHA-NI/AVX2 code node:crypto runs, with nothing more to download or link.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include "addon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * Every caller fsyncs the file before it publishes it. Left to the kernel, writeback starts
 * late (dirty_background_ratio of memory) and the fsyncs at the end of each blob flush it all
 * at once, holding thread-pool threads and stalling the other downloads; started every few
 * MiB, the disk works while the bytes arrive and the fsync finds little left to do.
 */
#define WRITE_BEHIND (8u << 20)

/* Marks Externals made by sha256Writer, so that no other External passes for one. */
static const napi_type_tag HASHER_TAG = {0x9d3c5a0e6b21f417ULL, 0x2be8c6d1a47f5039ULL};

typedef struct {
  EVP_MD_CTX *ctx; /* NULL once digestHex has finished the hash */
  bool busy;       /* a writeAndHash job holds the state (touched on the main thread only) */
  bool broken;     /* a write failed: what the file holds and what was hashed may differ */
  uint64_t unflushed; /* bytes written since writeback was last started (jobs only) */
} hasher_t;

typedef struct {
  hasher_t *hasher;
  napi_ref hasher_ref; /* keeps the External, and so the hasher, alive while the job runs */
  int fd;
  struct iovec *iov; /* the non-empty buffers; advanced in place as bytes are written */
  size_t iov_count;
  napi_ref *buffer_refs; /* the Buffers behind iov, kept from the collector until the end */
  size_t ref_count;
  napi_deferred deferred;
  napi_async_work work;
  uint64_t written;
  int err; /* errno of the failed step, 0 on success */
  const char *syscall;
} job_t;

static napi_value throw_state(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_INVALID_STATE", message);
  return NULL;
}

static napi_value throw_arg(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

/* throw_napi_failure, as a value to return. */
static napi_value throw_failed(napi_env env) {
  throw_napi_failure(env);
  return NULL;
}

static void finalize_hasher(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  hasher_t *hasher = data;
  EVP_MD_CTX_free(hasher->ctx);
  free(hasher);
}

/* The hasher behind `value`, or NULL with a TypeError thrown. */
static hasher_t *get_hasher(napi_env env, napi_value value) {
  napi_valuetype type;
  bool tagged = false;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok) return throw_failed(env), NULL;
  if (type != napi_external) return throw_arg(env, "handle must come from sha256Writer()"), NULL;
  if (napi_check_object_type_tag(env, value, &HASHER_TAG, &tagged) != napi_ok)
    return throw_failed(env), NULL;
  if (!tagged) return throw_arg(env, "handle must come from sha256Writer()"), NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return throw_failed(env), NULL;
  return data;
}

static napi_value js_sha256_writer(napi_env env, napi_callback_info info) {
  (void)info;
  hasher_t *hasher = calloc(1, sizeof *hasher);
  if (hasher == NULL) {
    napi_value error = errno_error(env, ENOMEM, "calloc", NULL);
    if (error != NULL) napi_throw(env, error);
    return NULL;
  }
  hasher->ctx = EVP_MD_CTX_new();
  if (hasher->ctx == NULL || EVP_DigestInit_ex(hasher->ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(hasher->ctx);
    free(hasher);
    napi_throw_error(env, "ENATIVE", "OpenSSL could not start a SHA-256");
    return NULL;
  }
  napi_value external;
  if (napi_create_external(env, hasher, finalize_hasher, NULL, &external) != napi_ok) {
    EVP_MD_CTX_free(hasher->ctx);
    free(hasher);
    return throw_failed(env);
  }
  /* From here the finalizer owns the hasher. */
  if (napi_type_tag_object(env, external, &HASHER_TAG) != napi_ok) return throw_failed(env);
  return external;
}

/* Runs on a thread-pool thread: no N-API calls here. */
static void job_execute(napi_env env, void *data) {
  (void)env;
  job_t *job = data;
  struct iovec *iov = job->iov;
  size_t left = job->iov_count; /* every iovec here is non-empty */
  while (left > 0) {
    ssize_t n = writev(job->fd, iov, left < IOV_MAX ? (int)left : IOV_MAX);
    if (n < 0) {
      if (errno == EINTR) continue;
      job->err = errno;
      job->syscall = "writev";
      return;
    }
    if (n == 0) {
      /* No progress on a non-empty write: never loop on it. */
      job->err = EIO;
      job->syscall = "writev";
      return;
    }
    job->written += (uint64_t)n;
    /* Hash exactly the bytes that reached the file, then step past them. */
    size_t rest = (size_t)n;
    while (rest > 0) {
      size_t take = rest < iov->iov_len ? rest : iov->iov_len;
      if (EVP_DigestUpdate(job->hasher->ctx, iov->iov_base, take) != 1) {
        job->err = EIO;
        job->syscall = "EVP_DigestUpdate";
        return;
      }
      iov->iov_base = (char *)iov->iov_base + take;
      iov->iov_len -= take;
      rest -= take;
      if (iov->iov_len == 0) {
        iov++;
        left--;
      }
    }
  }
  /* Write-behind: start the file's writeback every WRITE_BEHIND bytes, without waiting for
   * it. Advisory, so a failure (a pipe, a file system without it) changes nothing. */
  job->hasher->unflushed += job->written;
  if (job->hasher->unflushed >= WRITE_BEHIND) {
    job->hasher->unflushed = 0;
    sync_file_range(job->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  }
}

static void free_job(napi_env env, job_t *job) {
  for (size_t i = 0; i < job->ref_count; i++) napi_delete_reference(env, job->buffer_refs[i]);
  if (job->hasher_ref != NULL) napi_delete_reference(env, job->hasher_ref);
  if (job->work != NULL) napi_delete_async_work(env, job->work);
  free(job->buffer_refs);
  free(job->iov);
  free(job);
}

/* Back on the main thread: settle the promise and let the buffers go. */
static void job_complete(napi_env env, napi_status status, void *data) {
  job_t *job = data;
  job->hasher->busy = false;
  if (status == napi_ok && job->err == 0) {
    napi_value count;
    if (napi_create_double(env, (double)job->written, &count) == napi_ok)
      napi_resolve_deferred(env, job->deferred, count);
  } else {
    job->hasher->broken = true;
    int err = job->err != 0 ? job->err : ECANCELED;
    napi_value error = errno_error(env, err, job->syscall != NULL ? job->syscall : "writev", NULL);
    if (error == NULL) napi_get_and_clear_last_exception(env, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  free_job(env, job);
}

/* Reads `buffers` into job->iov, referencing each non-empty one. False with an exception. */
static bool collect_buffers(napi_env env, napi_value buffers, job_t *job) {
  bool is_array = false;
  uint32_t length = 0;
  if (napi_is_array(env, buffers, &is_array) != napi_ok) return throw_failed(env), false;
  if (!is_array) return throw_arg(env, "buffers must be an array of Buffers"), false;
  if (napi_get_array_length(env, buffers, &length) != napi_ok) return throw_failed(env), false;
  if (length == 0) return true;
  job->iov = calloc(length, sizeof *job->iov);
  job->buffer_refs = calloc(length, sizeof *job->buffer_refs);
  if (job->iov == NULL || job->buffer_refs == NULL) {
    napi_value error = errno_error(env, ENOMEM, "calloc", NULL);
    if (error != NULL) napi_throw(env, error);
    return false;
  }
  for (uint32_t i = 0; i < length; i++) {
    napi_value element;
    bool is_buffer = false;
    void *base = NULL;
    size_t size = 0;
    if (napi_get_element(env, buffers, i, &element) != napi_ok ||
        napi_is_buffer(env, element, &is_buffer) != napi_ok)
      return throw_failed(env), false;
    if (!is_buffer) return throw_arg(env, "buffers must be an array of Buffers"), false;
    if (napi_get_buffer_info(env, element, &base, &size) != napi_ok) return throw_failed(env), false;
    if (size == 0) continue;
    if (napi_create_reference(env, element, 1, &job->buffer_refs[job->ref_count]) != napi_ok)
      return throw_failed(env), false;
    job->ref_count++;
    job->iov[job->iov_count].iov_base = base;
    job->iov[job->iov_count].iov_len = size;
    job->iov_count++;
  }
  return true;
}

static napi_value js_write_and_hash(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return throw_failed(env);
  if (argc < 3) return throw_arg(env, "writeAndHash(handle, fd, buffers): missing arguments");
  hasher_t *hasher = get_hasher(env, argv[0]);
  if (hasher == NULL) return NULL;
  if (hasher->busy) return throw_state(env, "writeAndHash: a write on this handle is still running");
  if (hasher->broken) return throw_state(env, "writeAndHash: an earlier write on this handle failed");
  if (hasher->ctx == NULL) return throw_state(env, "writeAndHash: the digest was already taken");
  napi_valuetype type;
  int32_t fd = -1;
  if (napi_typeof(env, argv[1], &type) != napi_ok) return throw_failed(env);
  if (type != napi_number) return throw_arg(env, "fd must be a number");
  if (napi_get_value_int32(env, argv[1], &fd) != napi_ok) return throw_failed(env);
  if (fd < 0) return throw_arg(env, "fd must be a file descriptor");

  job_t *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_value error = errno_error(env, ENOMEM, "calloc", NULL);
    if (error != NULL) napi_throw(env, error);
    return NULL;
  }
  job->hasher = hasher;
  job->fd = fd;
  napi_value promise, name;
  if (!collect_buffers(env, argv[2], job)) {
    free_job(env, job);
    return NULL;
  }
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    free_job(env, job);
    return throw_failed(env);
  }
  if (job->iov_count == 0) {
    /* Nothing to write: settle now, without a trip through the thread pool. */
    napi_value zero;
    if (napi_create_double(env, 0, &zero) == napi_ok) napi_resolve_deferred(env, job->deferred, zero);
    free_job(env, job);
    return promise;
  }
  if (napi_create_reference(env, argv[0], 1, &job->hasher_ref) != napi_ok ||
      napi_create_string_utf8(env, "tsbuild:writeAndHash", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, job_execute, job_complete, job, &job->work) !=
          napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    /* Settle the promise with the failure rather than leave it pending forever. */
    napi_value error = NULL;
    throw_failed(env);
    napi_get_and_clear_last_exception(env, &error);
    napi_reject_deferred(env, job->deferred, error);
    free_job(env, job);
    return promise;
  }
  hasher->busy = true;
  return promise;
}

static napi_value js_digest_hex(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return throw_failed(env);
  if (argc < 1) return throw_arg(env, "digestHex(handle): missing handle");
  hasher_t *hasher = get_hasher(env, argv[0]);
  if (hasher == NULL) return NULL;
  if (hasher->busy) return throw_state(env, "digestHex: a write on this handle is still running");
  if (hasher->broken) return throw_state(env, "digestHex: an earlier write on this handle failed");
  if (hasher->ctx == NULL) return throw_state(env, "digestHex: the digest was already taken");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  int ok = EVP_DigestFinal_ex(hasher->ctx, md, &length);
  EVP_MD_CTX_free(hasher->ctx);
  hasher->ctx = NULL;
  if (ok != 1) {
    napi_throw_error(env, "ENATIVE", "OpenSSL could not finish the SHA-256");
    return NULL;
  }
  static const char digits[] = "0123456789abcdef";
  char hex[2 * EVP_MAX_MD_SIZE];
  for (unsigned int i = 0; i < length; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 0xf];
  }
  napi_value result;
  if (napi_create_string_latin1(env, hex, 2 * (size_t)length, &result) != napi_ok)
    return throw_failed(env);
  return result;
}

bool init_ingest(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"sha256Writer", NULL, js_sha256_writer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeAndHash", NULL, js_write_and_hash, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digestHex", NULL, js_digest_hex, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) {
    throw_failed(env);
    return false;
  }
  return true;
}
