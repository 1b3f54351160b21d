// Redundant audio data (RFC 2198, "RED"): each packet carries its own audio (the
// primary block) after copies of earlier packets' audio (redundant blocks), so a lost
// packet is rebuilt from one that follows it. Browsers send Opus in RED when it is
// negotiated, and so does libparley. The SFU checks each block like any Opus payload,
// forwards RED to subscribers that accepted it (renumbering the blocks' payload type
// to the subscriber's Opus) and the primary block alone to the others.
//
// Pure functions over the payload: no allocation, no throw, bounded work. Worker
// thread (packet path), fuzzed (fuzz_red).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace parley::sfu {

/// One block of a RED payload. `offset` and `length` locate its data in the payload.
struct RedBlock {
  uint8_t payload_type = 0;
  uint16_t timestamp_offset = 0;  ///< how far before the packet's timestamp (0 for the primary)
  size_t offset = 0, length = 0;
};

/// The layout of a RED payload: the redundant blocks, oldest first, then the primary.
struct RedLayout {
  /// More headers than this is not a packet any sender makes (browsers send one or two
  /// redundant blocks); it is refused, which also bounds the work.
  static constexpr size_t kMaxBlocks = 8;
  std::array<RedBlock, kMaxBlocks> blocks{};
  size_t count = 0;           ///< blocks, the primary included (at least 1)
  size_t headers_length = 0;  ///< 4 bytes per redundant block, 1 for the primary

  [[nodiscard]] const RedBlock& primary() const { return blocks[count - 1]; }
};

/// Parses a RED payload (RFC 2198 §3): headers while the F bit is set (4 bytes each:
/// payload type, 14-bit timestamp offset, 10-bit length), then a 1-byte header for the
/// primary; the blocks' data in the same order, the primary taking the rest. nullopt
/// when the headers or lengths run past the payload, or there are too many blocks.
std::optional<RedLayout> ParseRed(std::span<const uint8_t> payload);

/// Writes `pt` into every block header of `payload` (laid out as `layout`), keeping
/// the F bits: the blocks then name the subscriber's payload type for the codec.
void SetRedBlockPayloadTypes(std::span<uint8_t> payload, const RedLayout& layout, uint8_t pt);

}  // namespace parley::sfu
