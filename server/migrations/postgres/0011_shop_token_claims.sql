-- The coupons customers claimed by scanning a shop's QR code (issue 17): P云's `discount.create`
-- for a coupon a scan issued, linked back to the token's validation so the shop's statement shows
-- its worth and its history shows it claimed. `discount.create` names no token, so the link is
-- made by shop, product and time (see `shops::claims`); one row per coupon, a multi-use token
-- having several. `token_single_use`: 1 when the token dies at its first claim.
ALTER TABLE shop_validations ADD COLUMN token_single_use BIGINT;
CREATE TABLE shop_token_claims (
    discount_id    BIGINT NOT NULL REFERENCES parking_discounts (id) ON DELETE CASCADE,
    validation_id  BIGINT NOT NULL REFERENCES shop_validations (id) ON DELETE CASCADE,
    plate          TEXT,
    claimed_at     BIGINT NOT NULL,
    CONSTRAINT shop_token_claims_pkey PRIMARY KEY (discount_id)
);
CREATE INDEX shop_token_claims_validation_idx ON shop_token_claims (validation_id);
