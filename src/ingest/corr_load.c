/* cppo-notify — the correlation state from the store (see include/cppo/corr_load.h). */
#include "cppo/corr_load.h"

static int load_authorization(void *ctx, const struct authorization *a)
{
        return corr_state_put_authorization(ctx, a);
}

static int load_offer(void *ctx, const struct offer *o)
{
        return corr_state_put_offer(ctx, o);
}

static int load_agreement(void *ctx, const struct agreement *g)
{
        return corr_state_put_agreement(ctx, g);
}

static int load_hold(void *ctx, const struct hold *h)
{
        return corr_state_put_hold(ctx, h);
}

static int load_key(void *ctx, const char *key)
{
        return corr_state_put_notification_key(ctx, key);
}

int corr_state_load(struct store *s, struct corr_state **out)
{
        static const struct store_load_cb cb = { load_authorization, load_offer, load_agreement,
                                                 load_hold, load_key };
        struct corr_state *st = NULL;
        int r = corr_state_new(&st);

        if (r == 0)
                r = store_load(s, &cb, st);
        if (r < 0) {
                corr_state_free(st);
                return r;
        }
        *out = st;
        return 0;
}
