// Package acceptance holds the end-to-end tests of signed updates: real
// outpost-release and outpost-admin binaries, real keys and signatures, a
// loopback HTTPS server and a folder standing for a USB stick.
package acceptance
