#!/usr/bin/env bash
# A static libcurl for the wheel and the C tarball: HTTP(S) only, over
# OpenSSL, without the protocols and helpers the S3 client never uses (LDAP,
# Kerberos, SSH, RTMP, IDN, PSL, HTTP/2, brotli), each of which Debian's
# libcurl4 links and so would bring (with GnuTLS, p11-kit, libunistring, ...)
# into the wheel: some 10 MiB of libraries.
#
# The source is Debian's own package (the version the system's libcurl is,
# with Debian's security patches), fetched by `apt-get source` through a
# private apt configuration under WORK_DIR, so the system's sources.list is
# left as it is. Idempotent: a PREFIX built with the same options is kept.
#
# Certificates: no CA file or directory is compiled in (a Debian path would
# not exist on other distributions); curl takes OpenSSL's defaults, which
# honour SSL_CERT_FILE and SSL_CERT_DIR and otherwise read Debian's and
# Ubuntu's /usr/lib/ssl (-> /etc/ssl/certs).
#   packaging/build_curl.sh WORK_DIR PREFIX
set -euo pipefail
work=$(mkdir -p "$1" && cd "$1" && pwd)
prefix=$(mkdir -p "$2" && cd "$2" && pwd)
stamp=$prefix/.built
options=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF
  -DHTTP_ONLY=ON -DCURL_USE_OPENSSL=ON -DOPENSSL_USE_STATIC_LIBS=ON
  -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON -DUSE_LIBIDN2=OFF -DCURL_USE_LIBPSL=OFF
  -DCURL_USE_LIBSSH2=OFF -DUSE_NGHTTP2=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF
  -DCURL_USE_GSSAPI=OFF -DCURL_ZLIB=OFF
  -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none -DCURL_CA_FALLBACK=ON)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${options[*]}" ]; then
  exit 0
fi

apt_dir=$work/apt
mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$work/src"
# deb-src twins of the system's Debian sources (deb822 or one-line format).
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" >"$apt_dir/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && sed -n 's/^deb /deb-src /p' "$f" >"$apt_dir/parts/$(basename "$f").list"
done
cat >"$apt_dir/apt.conf" <<EOF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$apt_dir/parts";
Dir::State::Lists "$apt_dir/lists";
Dir::Cache "$apt_dir/cache";
EOF
export APT_CONFIG=$apt_dir/apt.conf
# A third-party source without deb-src (or offline) makes update fail while
# Debian's own indexes arrived; apt-get source below says if curl is missing.
apt-get update -qq || echo "build_curl.sh: apt-get update reported errors; trying apt-get source anyway" >&2
version=$(dpkg-query -W -f '${source:Version}' libcurl4-openssl-dev 2>/dev/null || true)
rm -rf "$work/src"/*
(cd "$work/src" && apt-get source -qq --download-only "curl${version:+=$version}" 2>/dev/null \
  || apt-get source -qq --download-only curl)
(cd "$work/src" && dpkg-source --no-check -x -q ./curl_*.dsc curl >/dev/null)

rm -rf "$work/build" "$prefix"/{include,lib}
cmake -S "$work/src/curl" -B "$work/build" -G Ninja -DCMAKE_INSTALL_PREFIX="$prefix" "${options[@]}" >/dev/null
cmake --build "$work/build" -j "${JOBS:-2}" >/dev/null
cmake --install "$work/build" >/dev/null
echo "${options[*]}" >"$stamp"
echo "static libcurl (HTTP only, OpenSSL) in $prefix"
