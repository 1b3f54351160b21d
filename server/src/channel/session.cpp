#include "channel/session.hpp"

namespace parley::server {

Session& SessionTable::Create(uint64_t id, std::string resume_token) {
  auto s = std::make_unique<Session>();
  s->id = id;
  s->resume_token = std::move(resume_token);
  Session& out = *s;
  by_resume_token_[out.resume_token] = &out;
  sessions_[id] = std::move(s);
  return out;
}

Session* SessionTable::Find(uint64_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

Session* SessionTable::ByResumeToken(const std::string& token) const {
  auto it = by_resume_token_.find(token);
  return it == by_resume_token_.end() ? nullptr : it->second;
}

void SessionTable::Erase(Session& s) {
  by_resume_token_.erase(s.resume_token);
  sessions_.erase(s.id);
}

}  // namespace parley::server
