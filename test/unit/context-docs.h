/* Unit-test fixtures shared by test-pattern and test-route: realistic
 * notification context documents (context_json's shape) and a JSON parser
 * for them. Included by one test program each; everything is static. */
#ifndef CPPO_TEST_CONTEXT_DOCS_H
#define CPPO_TEST_CONTEXT_DOCS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include <cmocka.h>

/* JSON below is written with single quotes (no string in it holds one);
 * jparse turns them into double quotes. */

/* A new order on a registered authorization (context_json shape). */
static const char order_doc[] =
    "{'kind':'new_order','key':'new_order/agmt-7f3a',"
    "'opportunity':{'id':'ra-0a1b2c','name':'Acme ERP rollout','buyer_company_name':'Acme GmbH',"
    "'metadata':{'region':'EMEA','tier':'gold','seats':'25'},"
    "'notify':['deals@acme.example','ops@partner.example'],'registered':true,"
    "'expires_at':'2026-12-31T00:00:00Z'},"
    "'partner':{'account_id':'444455556666','name':'\303\226dland Consulting'},"
    "'buyer':{'account_ids':['111122223333','777788889999']},"
    "'product':{'id':'prod-4ixkq2','title':'DataPipe Pro*'},"
    "'offer':{'id':'offer-3zt7q','name':'Acme 3y private offer',"
    "'expiration':'2026-12-01T00:00:00Z','link':'registered','late':false},"
    "'agreement':{'id':'agmt-7f3a','intent':'NEW','status':'ACTIVE',"
    "'acceptance_time':'2026-11-20T10:00:00Z','start_time':'2026-11-20T10:00:00Z',"
    "'end_time':null,'previous_agreement_id':null,'renewal':false},"
    "'reason':null,'source_event_keys':['123456789012|Purchase Agreement Created|r-1']}";

/* A partner offer with no authorization and no agreement yet. */
static const char extended_doc[] =
    "{'kind':'partner_offer_extended','key':'partner_offer_extended/offer-9q',"
    "'opportunity':{'id':null,'name':null,'buyer_company_name':null,'metadata':{},"
    "'notify':[],'registered':false,'expires_at':null},"
    "'partner':{'account_id':'444455556666','name':'Partner Co'},"
    "'buyer':{'account_ids':[]},"
    "'product':{'id':'prod-4ixkq2','title':'DataPipe'},"
    "'offer':{'id':'offer-9q','name':'Q4 CPPO','expiration':null,'link':'none','late':true},"
    "'agreement':{'id':null,'intent':null,'status':null,'acceptance_time':null,"
    "'start_time':null,'end_time':null,'previous_agreement_id':null,'renewal':false},"
    "'reason':null,'source_event_keys':[]}";

static const char attention_doc[] =
    "{'kind':'attention_needed','key':'attention_needed/offer-9q',"
    "'opportunity':{'id':null,'metadata':{},'notify':[],'registered':false},"
    "'offer':{'id':'offer-9q','link':'none','late':true},"
    "'reason':'offer-9q has no resale authorization after 72h'}";

static yajl_val jparse(const char *text)
{
        char err[256];
        size_t n = strlen(text);
        char *s = malloc(n + 1);
        assert_non_null(s);
        for (size_t i = 0; i <= n; i++)
                s[i] = text[i] == '\'' ? '"' : text[i];
        yajl_val v = yajl_tree_parse(s, err, sizeof(err));
        if (v == NULL)
                fprintf(stderr, "# bad test JSON: %s: %s\n", err, s);
        free(s);
        assert_non_null(v);
        return v;
}

#endif
