-- A QR-code coupon token a shop minted (issue 17, P云 `mcoupon/token`): the claim link shown at
-- the till and when it stops working. Only a `qr_token` validation that P云 answered has them.
ALTER TABLE shop_validations ADD COLUMN token_url TEXT;
ALTER TABLE shop_validations ADD COLUMN token_expires_at BIGINT;
