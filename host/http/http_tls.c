/*
 * The endpoint's certificate and key, read and checked with OpenSSL before
 * libmicrohttpd (GnuTLS) is given them: GnuTLS would only say that the
 * daemon failed to start, not which file is wrong or why.
 */
#include "config/http_settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* The whole file, NUL-terminated, malloc'd (caller frees), or NULL with errno. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *text = NULL;

    if (!f)
        return NULL;
    if (fstat(fileno(f), &st) != 0)
        goto out;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto out;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text)
        goto out;
    *len = fread(text, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        free(text);
        text = NULL;
        errno = EIO;
        goto out;
    }
    text[*len] = '\0';
out:
    fclose(f);
    return text;
}

/* The first reason on OpenSSL's error queue (which is emptied). */
static void openssl_reason(char *out, size_t out_size)
{
    unsigned long code = ERR_peek_last_error();
    const char *reason = code ? ERR_reason_error_string(code) : NULL;
    snprintf(out, out_size, "%s", reason ? reason : "no PEM data");
    ERR_clear_error();
}

static void wipe_free(char *text, size_t len)
{
    if (text)
        OPENSSL_cleanse(text, len);
    free(text);
}

int http_tls_load(const char *cert_file, const char *key_file, char **cert_pem, char **key_pem, char *err,
                  size_t err_size)
{
    size_t cert_len = 0, key_len = 0;
    char *cert_text = NULL, *key_text = NULL, reason[256];
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    BIO *bio = NULL;
    int rc = 0;

    if (!(cert_text = read_all(cert_file, &cert_len))) {
        snprintf(err, err_size, "cert_file '%s': cannot read: %s", cert_file, strerror(errno));
        return -1;
    }
    if (!(key_text = read_all(key_file, &key_len))) {
        snprintf(err, err_size, "key_file '%s': cannot read: %s", key_file, strerror(errno));
        rc = -2;
        goto out;
    }
    bio = BIO_new_mem_buf(cert_text, (int)cert_len);
    cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!cert) {
        openssl_reason(reason, sizeof(reason));
        snprintf(err, err_size, "cert_file '%s': not a PEM certificate (%s)", cert_file, reason);
        rc = -1;
        goto out;
    }
    /* No passphrase callback: an encrypted key fails here instead of
     * prompting on the terminal; GnuTLS could not use it either. */
    bio = BIO_new_mem_buf(key_text, (int)key_len);
    key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
    BIO_free(bio);
    if (!key) {
        openssl_reason(reason, sizeof(reason));
        snprintf(err, err_size, "key_file '%s': not an unencrypted PEM private key (%s)", key_file, reason);
        rc = -2;
        goto out;
    }
    if (X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        snprintf(err, err_size, "key_file '%s' does not belong to the certificate in cert_file '%s'", key_file,
                 cert_file);
        rc = -3;
        goto out;
    }
    if (cert_pem) {
        *cert_pem = cert_text;
        cert_text = NULL;
    }
    if (key_pem) {
        *key_pem = key_text;
        key_text = NULL;
    }
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    free(cert_text);
    wipe_free(key_text, key_len);
    return rc;
}
