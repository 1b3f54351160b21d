// Which channel and user a join names, and with which credentials, from what the
// application gave JoinChannel. A token that does not parse, or disagrees with what
// was given beside it, fails here with the code the server would give it, before any
// I/O.
#pragma once

#include <string>

#include "parley/proto/requests.hpp"
#include "parley/proto/result.hpp"
#include "parley/proto/token.hpp"

namespace parley::sdk::call {

struct JoinTarget {
  proto::JoinCredentials credentials;
  std::string channel_id, user_id;
};

/// AuthInfo fields, or an access token in `token` that carries (and signs) app,
/// channel, user and expiry: fields left empty are taken from it, those given must
/// agree with it (kTokenInvalid). Anything still missing: kInvalidAuthInfo.
Result<JoinTarget> JoinFor(const AuthInfo& given);
/// An access token or an ARTC single-parameter token; `channel_id` and `user_id` may be
/// empty, else they must be the token's (kTokenInvalid).
Result<JoinTarget> JoinFor(const std::string& token, const std::string& channel_id, const std::string& user_id);

}  // namespace parley::sdk::call
