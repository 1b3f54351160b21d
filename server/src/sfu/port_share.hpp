// One port for everything (--one-port): what a connection to the signalling port
// carries, told from its first bytes, and which media worker a transport lives on, told
// from its ICE ufrag.
//
// A client that can reach nothing but the signalling port (a firewall open to 443 and
// no more) still reaches media there: its ICE-TCP connection opens with an RFC 4571
// frame (a 16-bit length, then a STUN Binding request), where signalling opens with a
// TLS record (0x16) or an HTTP method (ASCII letters). A frame is at most a datagram
// long, so its first byte is 0x00..0x05, which neither TLS nor HTTP ever sends first.
// The request's USERNAME names the server's ufrag ("ours:theirs"), and our ufrags begin
// with their worker's index: the connection is handed to that worker as if its own
// ICE-TCP port had accepted it.
//
// The same prefix steers UDP when every worker shares one port: a check that the kernel
// hands to the wrong worker's socket is passed to the right one (worker.cpp).
//
// Everything here reads bytes from the network: bounded, no allocation, no throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace parley::sfu {

/// A ufrag for a transport on worker `worker` (< 256): two hex digits of the index,
/// then `random` (RFC 8445 §5.3 wants at least 24 random bits; callers give 32).
std::string WorkerUfrag(size_t worker, std::string_view random);
/// The worker index a ufrag of ours begins with; nullopt when it does not begin with two
/// hex digits (a ufrag made by someone else).
std::optional<size_t> UfragWorker(std::string_view local_ufrag);

enum class Opening : uint8_t {
  kNeedMore,    ///< too few bytes to tell yet
  kSignalling,  ///< TLS or HTTP: the signalling server's
  kMedia,       ///< an ICE-TCP connection for worker `worker`
  kRefused,     ///< neither (a frame too long or empty, not a Binding request, no ufrag of ours)
};
struct OpeningKind {
  Opening kind = Opening::kNeedMore;
  size_t worker = 0;  ///< kMedia: the worker its ufrag names
};

/// Classifies the first bytes of a connection (what has arrived so far; call again with
/// more on kNeedMore). `max_frame`: the longest frame ICE-TCP takes (a datagram);
/// `workers`: how many there are (an index past them is refused).
OpeningKind ClassifyOpening(std::span<const uint8_t> first, size_t max_frame, size_t workers);

}  // namespace parley::sfu
