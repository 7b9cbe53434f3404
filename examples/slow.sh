#!/usr/bin/env bash
# A running step that takes a while, for trying stop: it prints a line a second.
for i in $(seq 1 600); do echo "working $i"; sleep 1; done
