/* cppo-notify tests — the header fields mail_build() may write, each at
 * most once: what test-mail.c and the fuzzer (fuzz-mail.c) hold every
 * message to. Kept here, apart from mail.c, so that the tests check the
 * composer against a list of their own. */
#ifndef CPPO_TEST_MAIL_HEADERS_H
#define CPPO_TEST_MAIL_HEADERS_H

#define MAIL_HEADER_COUNT 14

static const char *const mail_header_names[MAIL_HEADER_COUNT] = {
        "Date",
        "From",
        "To",
        "Cc",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Auto-Submitted",
        "X-CPPO-Opportunity-Id",
        "X-CPPO-Notification-Key",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
};

#endif
