#ifndef ODRADEK_CZOOKEEPER_SHIM_H
#define ODRADEK_CZOOKEEPER_SHIM_H
// The multi-threaded client: completions and watchers fire on the library's own threads.
#define THREADED 1
#include <zookeeper/zookeeper.h>

// Swift 6 treats C globals as shared mutable state; these accessors hand out the library's constant ACLs.
static inline struct ACL_vector *czk_open_acl_unsafe(void) { return &ZOO_OPEN_ACL_UNSAFE; }
static inline struct ACL_vector *czk_read_acl_unsafe(void) { return &ZOO_READ_ACL_UNSAFE; }
static inline struct ACL_vector *czk_creator_all_acl(void) { return &ZOO_CREATOR_ALL_ACL; }
static inline int czk_state_connected(void) { return ZOO_CONNECTED_STATE; }
static inline int czk_state_connecting(void) { return ZOO_CONNECTING_STATE; }
static inline int czk_state_expired_session(void) { return ZOO_EXPIRED_SESSION_STATE; }
static inline int czk_state_auth_failed(void) { return ZOO_AUTH_FAILED_STATE; }
static inline int czk_event_created(void) { return ZOO_CREATED_EVENT; }
static inline int czk_event_deleted(void) { return ZOO_DELETED_EVENT; }
static inline int czk_event_changed(void) { return ZOO_CHANGED_EVENT; }
static inline int czk_event_child(void) { return ZOO_CHILD_EVENT; }
static inline int czk_event_session(void) { return ZOO_SESSION_EVENT; }
static inline int czk_event_not_watching(void) { return ZOO_NOTWATCHING_EVENT; }
#endif
