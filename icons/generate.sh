#!/usr/bin/env bash
# Renders icon.svg (a ball of yarn on a dark rounded square) into the PNGs the Tauri build and
# the .deb bundle use. Chromium renders the SVG (ImageMagick 6's own SVG renderer ignores the
# clip path); ImageMagick scales it. Tauri needs 8-bit RGBA PNGs (PNG32).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --default-background-color=00000000 \
  --window-size=512,512 --screenshot="$tmp/icon.png" "file://$PWD/icon.svg" >/dev/null 2>&1
convert "$tmp/icon.png" -strip PNG32:icon.png
for size in 32 128; do convert icon.png -resize ${size}x${size} -strip PNG32:${size}x${size}.png; done
convert icon.png -resize 256x256 -strip PNG32:128x128@2x.png
