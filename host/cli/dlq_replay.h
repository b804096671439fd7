/*
 * `rdapsync dlq replay FILE CONFIG`: dead letters back through their
 * pipeline after a fix (docs/operations.md, "Replaying dead letters").
 */
#ifndef RDAPSYNC_HOST_DLQ_REPLAY_H
#define RDAPSYNC_HOST_DLQ_REPLAY_H

#include "base/diag.h"
#include "loader/loader.h"
#include "config/yaml_tree.h"

/*
 * Rewrites the configuration tree `root` (read from config_path) into the
 * replay of `dead_letters`: only the pipeline `pipeline` (NULL: the one the
 * file's first dead letter names in rdapsync.error.pipeline) is kept,
 * renamed "<name>.dlq-replay" (its own checkpoints, so a replay killed
 * halfway resumes), with one task, the `file` source reading the dead
 * letters (keys, versions and headers as written), and, when the dead
 * letters were encrypted (errors.dead_letter.keyring), a decrypt transform
 * with that keyring before the pipeline's own. The http block goes (a
 * replay must not take the daemon's port). 0, or -1 with diagnostics.
 */
int dlq_replay_rewrite(ynode *root, const char *config_path, const char *dead_letters, const char *pipeline,
                       diag_list *diags);

#endif
