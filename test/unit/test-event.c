/* Unit tests: normalized event lifetime and names. */
#undef NDEBUG
#include "cppo/event.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void reset_clears_fields_and_keeps_working(void **state)
{
        struct mp_event ev;

        mp_event_init(&ev);
        for (int round = 0; round < 3; round++) {
                ev.kind = MP_AGREEMENT_CREATED;
                ev.offer_id = mp_event_strdup(&ev, "offer-t6n2w9q4k8x3v");
                ev.agreement_id = mp_event_strndup(&ev, "agmt-123456", 8);
                assert_string_equal(ev.offer_id, "offer-t6n2w9q4k8x3v");
                assert_string_equal(ev.agreement_id, "agmt-123");
                mp_event_reset(&ev);
                assert_int_equal(ev.kind, MP_UNSUPPORTED);
                assert_null(ev.offer_id);
                assert_int_equal(ev.n_envelopes, 0);
        }
        mp_event_deinit(&ev);
}

static void names_are_stable(void **state)
{
        assert_string_equal(mp_kind_name(MP_OFFER_RELEASED), "offer_released");
        assert_string_equal(mp_kind_name(MP_UNSUPPORTED), "unsupported");
        assert_string_equal(mp_role_name(MP_ROLE_MANUFACTURER), "manufacturer");
        assert_null(mp_role_name(MP_ROLE_NONE));
        assert_string_equal(mp_envelope_name(MP_ENV_SNS), "sns");
        assert_true(mp_kind_is_registration(MP_OFFER_ASSOCIATED));
        assert_false(mp_kind_is_registration(MP_AGREEMENT_ENDED));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(reset_clears_fields_and_keeps_working),
                cmocka_unit_test(names_are_stable),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
