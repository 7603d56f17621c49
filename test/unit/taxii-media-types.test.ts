import { describe, expect, it } from 'vitest';
import { acceptsTaxii, classifyContentType } from '../../src/taxii/media-types.js';

/**
 * Content negotiation (TAXII §1.6.8, §3.1; digest §1.2, §1.3; interop rules 2
 * and 11; pitfall P6). The server answers only in application/taxii+json;version=2.1.
 */
describe('acceptsTaxii: an Accept header that allows application/taxii+json;version=2.1 is never a 406 (TAXII §3.1)', () => {
  it.each([
    ['the exact TAXII 2.1 type', 'application/taxii+json;version=2.1'],
    ['the TAXII type without version ("latest supported", §1.6.8.2)', 'application/taxii+json'],
    ['optional whitespace around ";" and "="', 'application/taxii+json ; version=2.1'],
    ['whitespace inside the parameter', 'application/taxii+json; version = 2.1'],
    ['a quoted version parameter (RFC 9110 §5.6.6)', 'application/taxii+json;version="2.1"'],
    ['upper-case type, subtype and parameter name', 'APPLICATION/TAXII+JSON;VERSION=2.1'],
    ['mixed case', 'Application/Taxii+Json; Version=2.1'],
    ['a q-value below 1', 'application/taxii+json;version=2.1;q=0.5'],
    ['a charset parameter', 'application/taxii+json;version=2.1;charset=utf-8'],
    ['a quoted parameter holding a comma', 'application/taxii+json;foo="a,b";version=2.1'],
    ['the manifest Accept line of §5.3 (TAXII and STIX types listed)', 'application/taxii+json;version=2.1,application/stix+json;version=2.1'],
    ['the same with a space after the comma', 'application/taxii+json;version=2.1, application/stix+json;version=2.1'],
    ['a list where TAXII comes last', 'text/html, application/xml;q=0.9, application/taxii+json;version=2.1;q=0.8'],
    ['a list with empty items', ', ,application/taxii+json;version=2.1,'],
    ['an unacceptable 2.0 plus an acceptable 2.1', 'application/taxii+json;version=2.0, application/taxii+json;version=2.1'],
    ['*/* (curl, interop rule 2)', '*/*'],
    ['*/* with a q-value', '*/*;q=0.1'],
    ['application/* (interop rule 2)', 'application/*'],
    ['application/json (documented leniency, interop rule 2)', 'application/json'],
    ['application/json with charset', 'application/json; charset=utf-8'],
    ['OpenCTI\'s header (opencti#4246)', 'application/json, text/plain, */*'],
    ['browsers', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ])('accepts %s: %j', (_what, header) => {
    expect(acceptsTaxii(header)).toBe(true);
  });

  it('treats a missing or empty header as "anything" (RFC 9110 §12.5.1)', () => {
    expect(acceptsTaxii(undefined)).toBe(true);
    expect(acceptsTaxii('')).toBe(true);
    expect(acceptsTaxii('   ')).toBe(true);
  });

  it.each([
    ['only TAXII 2.0', 'application/taxii+json;version=2.0'],
    ['only TAXII 2.0, quoted', 'application/taxii+json;version="2.0"'],
    ['only a future TAXII version', 'application/taxii+json;version=3.0'],
    ['application/stix+json alone (a data value in TAXII 2.1, not a response type: §1.7.1 item 18)', 'application/stix+json;version=2.1'],
    ['application/stix+json without version', 'application/stix+json'],
    ['application/xml', 'application/xml'],
    ['text/html', 'text/html'],
    ['text/*', 'text/*'],
    ['a list of unacceptable types', 'text/html, application/xml, application/taxii+json;version=2.0'],
    ['TAXII 2.1 with q=0', 'application/taxii+json;version=2.1;q=0'],
    ['TAXII 2.1 with q=0.000', 'application/taxii+json;version=2.1;q=0.000'],
    ['*/* with q=0', '*/*;q=0'],
    ['application/* with q=0', 'application/*;q=0'],
    ['application/json with q=0', 'application/json;q=0'],
    ['a header without any media range', 'garbage'],
  ])('refuses %s: %j (406)', (_what, header) => {
    expect(acceptsTaxii(header)).toBe(false);
  });

  it('a more specific range overrides */* : "application/taxii+json;version=2.1;q=0, */*" excludes TAXII 2.1 (RFC 9110 §12.5.1)', () => {
    expect(acceptsTaxii('application/taxii+json;version=2.1;q=0, */*')).toBe(false);
    expect(acceptsTaxii('application/taxii+json;q=0, application/*')).toBe(false);
  });
});

describe('classifyContentType: what a POST body claims to be (TAXII §3.1, §5.5; interop rule 11)', () => {
  it.each([
    ['application/taxii+json;version=2.1', 'envelope'],
    ['application/taxii+json', 'envelope'],
    ['application/taxii+json; version=2.1', 'envelope'],
    ['application/taxii+json;version="2.1"', 'envelope'],
    ['APPLICATION/TAXII+JSON;VERSION=2.1', 'envelope'],
    ['application/taxii+json;version=2.1;charset=utf-8', 'envelope'],
    ['application/taxii+json; charset=UTF-8; version=2.1', 'envelope'],
    // The STIX type is refused for Accept but taken as a POST Content-Type (OpenCTI taxii-post connector).
    ['application/stix+json;version=2.1', 'bundle'],
    ['application/stix+json', 'bundle'],
    ['Application/STIX+JSON; Version=2.1', 'bundle'],
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
  ] as const)('%j → %s', (header, kind) => {
    expect(classifyContentType(header)).toBe(kind);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['TAXII 2.0', 'application/taxii+json;version=2.0'],
    ['TAXII 2.0, quoted', 'application/taxii+json;version="2.0"'],
    ['STIX 2.0', 'application/stix+json;version=2.0'],
    ['text/plain', 'text/plain'],
    ['application/xml', 'application/xml'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['a range, not a type', '*/*'],
    ['a subtype range', 'application/*'],
    ['no subtype', 'application'],
    ['no slash', 'json'],
  ])('refuses %s (%j) with 415', (_what, header) => {
    expect(classifyContentType(header)).toBeUndefined();
  });

  it('application/stix+json alone is refused as an Accept value but accepted as a POST Content-Type', () => {
    expect(acceptsTaxii('application/stix+json;version=2.1')).toBe(false);
    expect(classifyContentType('application/stix+json;version=2.1')).toBe('bundle');
  });
});
